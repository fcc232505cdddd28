"""face-api's age/gender net (``ageGenderNet`` on a ``TinyXception(2)`` backbone), in PyTorch.

Input framing and normalisation are those of the expression net (centred zero-pad to a square,
112x112, ``(rgb - [122.782, 117.001, 104.298]) / 255``). Backbone: 3x3 conv (stride 2), two
reduction blocks, two residual main blocks, an exit reduction block and a separable conv
(-> 512 x 7 x 7), 7x7 average pool, then two heads: age (regression, years) and gender (softmax
over male, female). Weights: ``faceapi-agegender`` from the model cache.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.faces.base import AgeGender
from moodshift.faces.crops import Box, face_batch
from moodshift.faces.tflayers import (SeparableConv, Tensors, dense, load_conv, max_pool_same,
                                      nhwc_to_nchw, tensor)

NAME = "faceapi-agegender"
INPUT_SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)
SCALE = 255.0
MAIN_BLOCKS = 2
GENDERS = ("male", "female")


class ReductionBlock:
    """Two separable convs, 3x3/2 max pool, plus a strided 1x1 "expansion" conv of the input."""

    def __init__(self, t: Tensors, prefix: str, activate_input: bool) -> None:
        self.sep0 = SeparableConv.load(t, f"{prefix}/separable_conv0")
        self.sep1 = SeparableConv.load(t, f"{prefix}/separable_conv1")
        self.expansion = load_conv(t, f"{prefix}/expansion_conv", stride=2)
        self.activate_input = activate_input

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(x) if self.activate_input else x
        out = self.sep1(torch.relu(self.sep0(out)))
        return max_pool_same(out, 3, 2) + self.expansion(x)


class MainBlock:
    """Three ReLU -> separable conv steps with a residual connection."""

    def __init__(self, t: Tensors, prefix: str) -> None:
        self.convs = [SeparableConv.load(t, f"{prefix}/separable_conv{i}") for i in range(3)]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for conv in self.convs:
            out = conv(torch.relu(out))
        return out + x


class TinyXception:
    """(n, 3, 112, 112) normalised faces -> (n, 512) pooled features."""

    def __init__(self, t: Tensors, main_blocks: int = MAIN_BLOCKS) -> None:
        self.conv_in = load_conv(t, "entry_flow/conv_in", stride=2)
        self.entry = [ReductionBlock(t, "entry_flow/reduction_block_0", activate_input=False),
                      ReductionBlock(t, "entry_flow/reduction_block_1", activate_input=True)]
        self.middle = [MainBlock(t, f"middle_flow/main_block_{i}") for i in range(main_blocks)]
        self.exit = ReductionBlock(t, "exit_flow/reduction_block", activate_input=True)
        self.exit_conv = SeparableConv.load(t, "exit_flow/separable_conv")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.conv_in(x))
        for block in [*self.entry, *self.middle, self.exit]:
            out = block(out)
        out = torch.relu(self.exit_conv(out))
        return F.avg_pool2d(out, 7, 2).flatten(1)


class FaceApiAgeGender:
    """AgeGenderModel: age in years and gender with its probability for each face box."""

    name = NAME

    def __init__(self, tensors: Tensors | None = None) -> None:
        if tensors is None:
            from moodshift.models.store import load_tensors
            tensors = load_tensors(NAME)
        self.backbone = TinyXception(tensors)
        self.age_w, self.age_b = tensor(tensors, "fc/age/weights"), tensor(tensors, "fc/age/bias")
        self.gender_w = tensor(tensors, "fc/gender/weights")
        self.gender_b = tensor(tensors, "fc/gender/bias")

    def raw(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ages (n,) and gender probabilities (n, 2: male, female) for a normalised batch."""
        with torch.inference_mode():
            pooled = self.backbone(nhwc_to_nchw(batch))
            age = dense(pooled, self.age_w, self.age_b)[:, 0]
            gender = torch.softmax(dense(pooled, self.gender_w, self.gender_b).double(), dim=1)
        return age.numpy().astype(np.float64), gender.numpy()

    def predict(self, image: np.ndarray, boxes: list[Box]) -> list[AgeGender]:
        if not boxes:
            return []
        ages, genders = self.raw(face_batch(image, boxes, INPUT_SIZE, MEAN_RGB, SCALE))
        out: list[AgeGender] = []
        for age, probs in zip(ages, genders):
            k = int(np.argmax(probs))
            out.append(AgeGender(float(age), GENDERS[k], float(probs[k])))
        return out
