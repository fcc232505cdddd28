"""TensorFlow-compatible convolution helpers for porting TF.js networks to PyTorch.

TF's "SAME" padding puts the odd extra pixel at the bottom/right (PyTorch's symmetric
``padding=`` cannot express that), so every layer here computes TF's padding explicitly.
Weights arrive in TF layout (NHWC filters ``[kh, kw, in, out]``, depthwise ``[kh, kw, in, mult]``)
and are converted once to PyTorch's OIHW; activations are NCHW float32.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from moodshift.errors import UserError

Tensors = dict[str, np.ndarray]


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) along one axis; the extra pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: tuple[int, int], stride: int,
             value: float = 0.0) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad x for a SAME conv/pool; returns the tensor and a symmetric padding still to apply.

    When TF's padding is symmetric it is left to the conv itself (cheaper than F.pad). Sizes are
    taken as plain ints, so an ONNX trace records constant pads (its size arithmetic would not
    keep ``max`` and floor division)."""
    top, bottom = same_padding(int(x.shape[2]), kernel[0], stride)
    left, right = same_padding(int(x.shape[3]), kernel[1], stride)
    if top == bottom and left == right and value == 0.0:
        return x, (top, left)
    return F.pad(x, (left, right, top, bottom), value=value), (0, 0)


def tensor(tensors: Tensors, key: str) -> torch.Tensor:
    """A float32 torch tensor from a converted weight map; a UserError if the key is absent."""
    if key not in tensors:
        raise UserError(f"converted weights lack {key!r}; run `moodshift models pull --force`")
    return torch.from_numpy(np.ascontiguousarray(tensors[key], dtype=np.float32))


def conv_filter(w: torch.Tensor) -> torch.Tensor:
    """[kh, kw, in, out] -> [out, in, kh, kw]."""
    return w.permute(3, 2, 0, 1).contiguous()


def depthwise_filter(w: torch.Tensor) -> torch.Tensor:
    """[kh, kw, in, mult] -> [in * mult, 1, kh, kw] (PyTorch's grouped-conv layout)."""
    kh, kw, cin, mult = w.shape
    return w.permute(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw).contiguous()


class Conv:
    """A TF conv2d with SAME padding and an optional bias (OIHW weight)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1,
                 groups: int = 1) -> None:
        self.weight, self.bias, self.stride, self.groups = weight, bias, stride, groups
        self.kernel = (int(weight.shape[2]), int(weight.shape[3]))

    @classmethod
    def from_tf(cls, w: torch.Tensor, bias: torch.Tensor | None, stride: int = 1) -> "Conv":
        return cls(conv_filter(w), bias, stride)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x, pad = pad_same(x, self.kernel, self.stride)
        return F.conv2d(x, self.weight, self.bias, self.stride, pad, 1, self.groups)


def depthwise_conv(w: torch.Tensor, bias: torch.Tensor | None = None, stride: int = 1) -> Conv:
    """A TF depthwise_conv2d (SAME) from its [kh, kw, in, mult] filter."""
    weight = depthwise_filter(w)
    return Conv(weight, bias, stride, groups=int(w.shape[2]))


class SeparableConv:
    """TF separable_conv2d (depthwise with the stride, then 1x1 pointwise) plus a bias."""

    def __init__(self, depthwise: torch.Tensor, pointwise: torch.Tensor, bias: torch.Tensor,
                 stride: int = 1) -> None:
        self.depthwise = depthwise_conv(depthwise, None, stride)
        self.pointwise = Conv.from_tf(pointwise, bias, 1)

    @classmethod
    def load(cls, tensors: Tensors, prefix: str, stride: int = 1) -> "SeparableConv":
        """face-api's naming: ``{prefix}/depthwise_filter``, ``/pointwise_filter``, ``/bias``."""
        return cls(tensor(tensors, f"{prefix}/depthwise_filter"),
                   tensor(tensors, f"{prefix}/pointwise_filter"),
                   tensor(tensors, f"{prefix}/bias"), stride)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def load_conv(tensors: Tensors, prefix: str, stride: int = 1) -> Conv:
    """face-api's naming for a plain conv: ``{prefix}/filters`` and ``{prefix}/bias``."""
    return Conv.from_tf(tensor(tensors, f"{prefix}/filters"), tensor(tensors, f"{prefix}/bias"),
                        stride)


def max_pool_same(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TF max_pool with SAME padding (padded cells never win)."""
    x, pad = pad_same(x, (kernel, kernel), stride, value=float("-inf"))
    return F.max_pool2d(x, kernel, stride, pad)


def dense(x: torch.Tensor, weights: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """face-api's fully connected layer: x @ W + b with W stored [in, out]."""
    return x @ weights + bias

