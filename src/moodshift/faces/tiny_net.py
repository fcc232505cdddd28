"""The PyTorch port of face-api's Tiny Face Detector network (torch; see moodshift.faces.tiny).

Only used to export the ONNX model and as the fallback when that export is missing (or for an
input size other than the exported 416); inference imports it lazily via moodshift.models.runtime.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from moodshift.faces.tflayers import SeparableConv, Tensors, load_conv, max_pool_same
from moodshift.faces.tiny import ANCHORS

LEAK = 0.10000000149011612


class TinyNet:
    """(n, 3, s, s) normalised input -> (n, s/32, s/32, 5 anchors, 5) raw predictions."""

    def __init__(self, t: Tensors) -> None:
        self.conv0 = load_conv(t, "conv0")     # face-api runs this one with VALID padding
        self.seps = [SeparableConv.load(t, f"conv{i}") for i in range(1, 6)]
        self.head = load_conv(t, "conv8")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = F.leaky_relu(F.conv2d(x, self.conv0.weight, self.conv0.bias), LEAK)
        out = max_pool_same(out, 2, 2)
        for i, sep in enumerate(self.seps):
            out = F.leaky_relu(sep(out), LEAK)
            out = max_pool_same(out, 2, 2 if i < 4 else 1)
        out = self.head(out).permute(0, 2, 3, 1)
        return out.reshape(out.shape[0], out.shape[1], out.shape[2], len(ANCHORS), 5)


def build(tensors: Tensors) -> TinyNet:
    return TinyNet(tensors)
