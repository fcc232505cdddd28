"""The interface every expression classifier implements."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class ExpressionModel(Protocol):
    """Classifies faces into moodshift.emotions.EMOTIONS (that order), probabilities summing to 1."""

    name: str

    def predict(self, image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
        """Probabilities (len(boxes), 7) for the faces at ``boxes`` (x, y, w, h) in an RGB uint8
        image. Each model crops and normalises in its own way. A box covering the whole image
        classifies an image that is already a face crop."""
        ...
