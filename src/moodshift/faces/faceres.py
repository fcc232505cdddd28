"""FaceRes (npm ``@vladmandic/human``): age, gender and a face descriptor from one network.

moodshift uses it as a *judge*: it neither labelled the faces the StyleGAN age/gender directions
were fit to nor calibrated them (face-api did both), so `eval gan` can report age and gender read
by a model independent of the steering. Its pooled 1024-d features were trained for face
recognition, which makes them the identity descriptor for "same person" measurements.

Framing follows human's pipeline: the detector box grown to 1.4x its size (0.2 on each side),
made square with centred zero padding, resized to 224x224 RGB, values 0..255 (no
normalisation: the network expects raw pixels). Age is read from the 100-way age distribution
(years 0..99) as human decodes it (`mode_age`); gender is P(male) from a sigmoid.
"""

from __future__ import annotations

import numpy as np

from moodshift.errors import ModelMissingError
from moodshift.faces.base import AgeGender, Box, unit_descriptors
from moodshift.faces.crops import face_batch, to_nchw
from moodshift.models.runtime import Tensors, load_net

NAME = "human-faceres"
INPUT_SIZE = 224
MARGIN = 0.2


def mode_age(distribution: np.ndarray) -> float:
    """Age in years from FaceRes's 100-way distribution, decoded as its distributor, npm
    `@vladmandic/human`, does: the most probable year, moved towards its more probable
    neighbour by ten times that neighbour's probability. The network's authors (HSE_FaceRec_tf)
    also read the top of the distribution (the two most probable years, weighted). The full
    expectation, which moodshift used before session 15, drags broad distributions towards
    the middle years: children read older and old people younger. Never below 0."""
    dist = np.asarray(distribution, dtype=np.float64)
    top = int(np.argmax(dist))
    below = dist[top - 1] if top > 0 else 0.0
    above = dist[top + 1] if top + 1 < dist.size else 0.0
    return max(float(top - 10.0 * below if below > above else top + 10.0 * above), 0.0)


class FaceResAgeGender:
    """AgeGenderModel (age in years, gender with its probability) plus face descriptors."""

    name = NAME

    def __init__(self, tensors: Tensors | None = None, backend: str = "auto") -> None:
        self.net = load_net(NAME, tensors, backend)

    def raw(self, image: np.ndarray, boxes: list[Box]) -> tuple[np.ndarray, ...]:
        """P(male) (n,), age distributions (n, 100) and descriptors (n, 1024) for the boxes."""
        batch = face_batch(image, boxes, INPUT_SIZE, (0.0, 0.0, 0.0), 1.0, MARGIN)
        male, ages, descriptors = self.net(to_nchw(batch))
        return male.astype(np.float64), ages.astype(np.float64), descriptors.astype(np.float64)

    def predict(self, image: np.ndarray, boxes: list[Box]) -> list[AgeGender]:
        if not boxes:
            return []
        male, ages, _ = self.raw(image, boxes)
        out: list[AgeGender] = []
        for p_male, dist in zip(male, ages):
            age = mode_age(dist)
            gender = "male" if p_male >= 0.5 else "female"
            out.append(AgeGender(age, gender, float(max(p_male, 1.0 - p_male))))
        return out

    def describe(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(n, 1024) face-recognition descriptors, L2-normalised."""
        if not boxes:
            return np.zeros((0, 1024))
        return unit_descriptors(self.raw(image, boxes)[2])


def load_if_pulled() -> FaceResAgeGender | None:
    """FaceRes when `models pull` has fetched it, else None (callers report without it)."""
    try:
        return FaceResAgeGender()
    except ModelMissingError:
        return None
