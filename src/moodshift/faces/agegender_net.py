"""The PyTorch port of face-api's age/gender net (torch; see moodshift.faces.agegender).

Only used to export the ONNX model and as the fallback when that export is missing; inference
imports it lazily through moodshift.models.runtime.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from moodshift.faces.tflayers import SeparableConv, Tensors, dense, load_conv, max_pool_same, tensor

MAIN_BLOCKS = 2


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


class AgeGenderNet:
    """(n, 3, 112, 112) normalised faces -> ages (n,) and gender logits (n, 2: male, female)."""

    def __init__(self, t: Tensors) -> None:
        self.backbone = TinyXception(t)
        self.age_w, self.age_b = tensor(t, "fc/age/weights"), tensor(t, "fc/age/bias")
        self.gender_w, self.gender_b = tensor(t, "fc/gender/weights"), tensor(t, "fc/gender/bias")

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.backbone(x)
        return (dense(pooled, self.age_w, self.age_b)[:, 0],
                dense(pooled, self.gender_w, self.gender_b))


def build(tensors: Tensors) -> AgeGenderNet:
    return AgeGenderNet(tensors)
