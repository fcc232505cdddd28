"""face-api's expression net (``faceExpressionNet``), ported to PyTorch.

Input: each face box cropped, zero-padded to a centred square, TF-bilinear resized to 112x112,
``(rgb - [122.782, 117.001, 104.298]) / 255``. Backbone (face-api's ``FaceFeatureExtractor``):
four dense blocks of four convs each (the first conv of block 0 is a plain 3x3 conv, all others
separable), each block halving the resolution, then a 7x7 average pool (-> 256 features), a
fully connected layer and a softmax over face-api's classes, reordered to moodshift's EMOTIONS.
Weights: ``faceapi-expression`` from the model cache.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.emotions import EMOTIONS
from moodshift.faces.crops import Box, face_batch
from moodshift.faces.tflayers import (Conv, SeparableConv, Tensors, dense, load_conv,
                                      nhwc_to_nchw, tensor)

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


class DenseBlock:
    """face-api's denseBlock4: out1 = relu(conv0(x)); each later conv sees relu(sum of all earlier
    outputs); the block returns relu of the sum of all four."""

    def __init__(self, t: Tensors, prefix: str, first: bool) -> None:
        self.conv0: Conv | SeparableConv = (load_conv(t, f"{prefix}/conv0", stride=2) if first
                                            else SeparableConv.load(t, f"{prefix}/conv0", 2))
        self.rest = [SeparableConv.load(t, f"{prefix}/conv{i}") for i in (1, 2, 3)]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        total = torch.relu(self.conv0(x))
        inp = total
        for conv in self.rest:
            total = total + conv(inp)
            inp = torch.relu(total)
        return inp


class FaceFeatureExtractor:
    """(n, 3, 112, 112) normalised faces -> (n, 256) features."""

    def __init__(self, t: Tensors) -> None:
        self.blocks = [DenseBlock(t, f"dense{i}", first=(i == 0)) for i in range(4)]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return F.avg_pool2d(x, 7, 2).flatten(1)


class FaceApiExpression:
    """ExpressionModel: probabilities over EMOTIONS for each face box."""

    name = NAME

    def __init__(self, tensors: Tensors | None = None) -> None:
        if tensors is None:
            from moodshift.models.store import load_tensors
            tensors = load_tensors(WEIGHTS)
        self.features = FaceFeatureExtractor(tensors)
        self.fc_w, self.fc_b = tensor(tensors, "fc/weights"), tensor(tensors, "fc/bias")

    def faceapi_probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Softmax in face-api's class order for a normalised (n, 112, 112, 3) batch."""
        with torch.inference_mode():
            logits = dense(self.features(nhwc_to_nchw(batch)), self.fc_w, self.fc_b)
            return torch.softmax(logits.double(), dim=1).numpy()

    def predict(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(len(boxes), 7) probabilities in EMOTIONS order, each row summing to 1."""
        if not boxes:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float64)
        batch = face_batch(image, boxes, INPUT_SIZE, MEAN_RGB, SCALE)
        return self.faceapi_probabilities(batch)[:, REORDER]
