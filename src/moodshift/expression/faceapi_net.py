"""The PyTorch port of face-api's expression net (torch; see moodshift.expression.faceapi).

Only used to export the ONNX model and as the fallback when that export is missing; inference
imports it lazily through moodshift.models.runtime.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from moodshift.faces.tflayers import Conv, SeparableConv, Tensors, dense, load_conv, tensor


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


class ExpressionNet:
    """(n, 3, 112, 112) normalised faces -> (n, 7) logits in face-api's class order."""

    def __init__(self, t: Tensors) -> None:
        self.features = FaceFeatureExtractor(t)
        self.fc_w, self.fc_b = tensor(t, "fc/weights"), tensor(t, "fc/bias")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return dense(self.features(x), self.fc_w, self.fc_b)


def build(tensors: Tensors) -> ExpressionNet:
    return ExpressionNet(tensors)
