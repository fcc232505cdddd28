"""face-api's age/gender net (``ageGenderNet`` on a ``TinyXception(2)`` backbone).

Input framing and normalisation are those of the expression net (centred zero-pad to a square,
112x112, ``(rgb - [122.782, 117.001, 104.298]) / 255``). Backbone: 3x3 conv (stride 2), two
reduction blocks, two residual main blocks, an exit reduction block and a separable conv
(-> 512 x 7 x 7), 7x7 average pool, then two heads: age (regression, years) and gender (softmax
over male, female). Weights: ``faceapi-agegender`` from the model cache; the network runs through
moodshift.models.runtime (PyTorch port: moodshift.faces.agegender_net), the rest is numpy.
"""

from __future__ import annotations

import numpy as np

from moodshift.faces.base import AgeGender, Box
from moodshift.faces.crops import face_batch, to_nchw
from moodshift.models.runtime import Tensors, load_net, softmax

NAME = "faceapi-agegender"
INPUT_SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)
SCALE = 255.0
GENDERS = ("male", "female")


class FaceApiAgeGender:
    """AgeGenderModel: age in years and gender with its probability for each face box."""

    name = NAME

    def __init__(self, tensors: Tensors | None = None, backend: str = "auto") -> None:
        self.net = load_net(NAME, tensors, backend)

    def raw(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ages (n,) and gender probabilities (n, 2: male, female) for a normalised batch."""
        age, gender_logits = self.net(to_nchw(batch))
        return age.astype(np.float64), softmax(gender_logits)

    def predict(self, image: np.ndarray, boxes: list[Box]) -> list[AgeGender]:
        if not boxes:
            return []
        ages, genders = self.raw(face_batch(image, boxes, INPUT_SIZE, MEAN_RGB, SCALE))
        out: list[AgeGender] = []
        for age, probs in zip(ages, genders):
            k = int(np.argmax(probs))
            # the age head is an unbounded regression: a small child's face can come out a
            # little below 0 years, which is no age (and no age group)
            out.append(AgeGender(max(float(age), 0.0), GENDERS[k], float(probs[k])))
        return out
