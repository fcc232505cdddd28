"""What every face detector returns, and the interface detectors implement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

# A face box in pixels of the image it was found in: (x, y, width, height).
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Detection:
    """A face box in pixel coordinates of the input image: (x, y, w, h), and a score in [0, 1]."""

    box: Box
    score: float
    source: str = ""          # which detector (and pass) found it, e.g. "faceapi-ssd+padded"

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


class FaceDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image (H, W, 3), highest score first."""
        ...


@dataclass(frozen=True)
class AgeGender:
    age: float
    gender: str              # "male" | "female"
    gender_probability: float


class AgeGenderModel(Protocol):
    name: str

    def predict(self, image: np.ndarray, boxes: list[Box]) -> list[AgeGender]:
        ...


def unit_descriptors(descriptors: np.ndarray) -> np.ndarray:
    """Face descriptors (n, d) scaled to length 1 each (identity distances compare directions)."""
    desc = np.asarray(descriptors, dtype=np.float64)
    return desc / np.maximum(np.linalg.norm(desc, axis=1, keepdims=True), 1e-12)
