"""The interface every expression classifier implements."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class ExpressionModel(Protocol):
    """Classifies faces into moodshift.emotions.EMOTIONS (that order), probabilities summing to 1."""

    name: str

    def predict(self, image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
        """Probabilities (len(boxes), 7) for the faces at ``boxes`` (x, y, w, h) in an RGB uint8
        image. Each model crops and normalises in its own way. A box covering the whole image
        classifies an image that is already a face crop."""
        ...


def whole_image_probs(model: Any, images: np.ndarray) -> np.ndarray:
    """Expression probabilities (n, 7) with each whole image as the face box.

    Models with a crop-level path (moodshift's own) get one batched network call; others are
    asked image by image.
    """
    n, h, w = images.shape[:3]
    box = [(0, 0, w, h)]
    if hasattr(model, "prepare") and hasattr(model, "predict_crops"):
        crops = np.concatenate([model.prepare(img, box) for img in images])
        return np.asarray(model.predict_crops(crops), dtype=np.float64)
    return np.concatenate([np.asarray(model.predict(img, box), np.float64) for img in images])
