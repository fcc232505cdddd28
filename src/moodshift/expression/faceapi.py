"""face-api's expression net (``faceExpressionNet``).

Input: each face box cropped, zero-padded to a centred square, TF-bilinear resized to 112x112,
``(rgb - [122.782, 117.001, 104.298]) / 255``. Backbone (face-api's ``FaceFeatureExtractor``):
four dense blocks of four convs each (the first conv of block 0 is a plain 3x3 conv, all others
separable), each block halving the resolution, then a 7x7 average pool (-> 256 features), a
fully connected layer and a softmax over face-api's classes, reordered to moodshift's EMOTIONS.
Weights: ``faceapi-expression`` from the model cache; the network runs through
moodshift.models.runtime (PyTorch port: moodshift.expression.faceapi_net), the rest is numpy.
"""

from __future__ import annotations

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.faces.base import Box
from moodshift.faces.crops import face_batch, to_nchw
from moodshift.models.runtime import Tensors, load_net, softmax

NAME = "faceapi"
WEIGHTS = "faceapi-expression"
INPUT_SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)
SCALE = 255.0
# face-api's output order; every name maps to its EMOTIONS entry.
FACEAPI_CLASSES = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
_TO_EMOTION = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
               "fearful": "fear", "disgusted": "disgust", "surprised": "surprise"}
# EMOTIONS[i] is face-api's class REORDER[i].
REORDER = [FACEAPI_CLASSES.index(next(k for k, v in _TO_EMOTION.items() if v == e))
           for e in EMOTIONS]


class FaceApiExpression:
    """ExpressionModel: probabilities over EMOTIONS for each face box."""

    name = NAME

    def __init__(self, tensors: Tensors | None = None, backend: str = "auto") -> None:
        self.net = load_net(WEIGHTS, tensors, backend)

    def faceapi_probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Softmax in face-api's class order for a normalised (n, 112, 112, 3) batch."""
        (logits,) = self.net(to_nchw(batch))
        return softmax(logits)

    def predict(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(len(boxes), 7) probabilities in EMOTIONS order, each row summing to 1."""
        if not boxes:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float64)
        batch = face_batch(image, boxes, INPUT_SIZE, MEAN_RGB, SCALE)
        return self.faceapi_probabilities(batch)[:, REORDER]
