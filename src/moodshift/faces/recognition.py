"""face-api's face recognition network: a 128-d identity descriptor per face.

moodshift uses it as the identity *tuner*: changes meant to keep the person in
`generate --same-person` are tried and checked with it (tools/identity_drift_probe.py,
docs/stylegan.md), so that FaceRes, whose descriptor `eval gan` reports identity consistency
with, stays an independent judge. The network takes a face made square with centred zero
padding, resized to 150x150, ``(pixel - mean_rgb) / 255`` (face-api's
FaceRecognitionNet.forwardInput). face-api itself describes a box aligned on its 68 landmarks;
moodshift gives it the detector's box, padded and resized the same way.
"""

from __future__ import annotations

import numpy as np

from moodshift.faces.base import Box, unit_descriptors
from moodshift.faces.crops import face_batch, to_nchw
from moodshift.models.runtime import Tensors, load_net

NAME = "faceapi-recognition"
INPUT_SIZE = 150
MEAN_RGB = (122.782, 117.001, 104.298)
DESCRIPTOR_SIZE = 128


class FaceRecognizer:
    def __init__(self, tensors: Tensors | None = None, backend: str = "auto") -> None:
        self.net = load_net(NAME, tensors, backend)

    def describe(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(n, 128) descriptors of the boxed faces, L2-normalised (face-api compares raw
        descriptors by Euclidean distance; theirs are close to unit length already)."""
        if not boxes:
            return np.zeros((0, DESCRIPTOR_SIZE))
        batch = face_batch(image, boxes, INPUT_SIZE, MEAN_RGB, 255.0)
        return unit_descriptors(self.net(to_nchw(batch))[0])
