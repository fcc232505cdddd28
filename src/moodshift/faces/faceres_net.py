"""The PyTorch port of FaceRes, the age/gender/descriptor network of npm ``@vladmandic/human``.

FaceRes (HSE-FaceRes, Savchenko) is a MobileNetV1 (width 1.0, 224x224 RGB in 0..255, no
normalisation inside) with batch norm already merged by the TF.js converter: each conv carries a
folded filter plus an additive offset (``*_bn/batchnorm_1/sub``), each depthwise conv a
per-channel scale (``*_bn/batchnorm_1/mul``) and the offset, then ReLU6. After global average
pooling (the 1024-d face descriptor) come ``feats`` (dense 256, ReLU) and two heads: gender
(sigmoid, P(male)) and age (softmax over 0..99 years).

Only used to export the ONNX model (``moodshift models pull``) and as the fallback when that
export is missing; inference (moodshift.faces.faceres) imports it lazily through
moodshift.models.runtime.
"""

from __future__ import annotations

import torch

from moodshift.faces.tflayers import Conv, Tensors, dense, depthwise_filter, tensor

DOWNSAMPLE_AT = (2, 4, 6, 12)          # blocks whose depthwise conv has stride 2
BLOCKS = 13


def _conv(t: Tensors, name: str, stride: int) -> Conv:
    return Conv.from_tf(tensor(t, f"{name}/convolution/merged_input"),
                        tensor(t, f"{name}_bn/batchnorm_1/sub"), stride)


def _depthwise(t: Tensors, idx: int) -> Conv:
    name = f"conv_dw_{idx}"
    scale = tensor(t, f"{name}_bn/batchnorm_1/mul")
    weight = depthwise_filter(tensor(t, f"{name}/depthwise_kernel")) * scale.view(-1, 1, 1, 1)
    return Conv(weight, tensor(t, f"{name}_bn/batchnorm_1/sub"),
                2 if idx in DOWNSAMPLE_AT else 1, groups=int(weight.shape[0]))


class FaceResNet:
    """(n, 3, 224, 224) RGB 0..255 -> P(male) (n,), age probabilities (n, 100: 0..99 years) and
    the pooled descriptor (n, 1024)."""

    def __init__(self, t: Tensors) -> None:
        self.conv1 = _conv(t, "conv1", 2)
        self.blocks = [(_depthwise(t, i), _conv(t, f"conv_pw_{i}", 1))
                       for i in range(1, BLOCKS + 1)]
        self.feats = tensor(t, "feats/kernel"), tensor(t, "feats/bias")
        self.gender = tensor(t, "gender_pred/kernel"), tensor(t, "gender_pred/bias")
        self.age = tensor(t, "age_pred/kernel"), tensor(t, "age_pred/bias")

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.conv1(x).clamp(0, 6)
        for dw, pw in self.blocks:
            out = pw(dw(out).clamp(0, 6)).clamp(0, 6)
        descriptor = out.mean(dim=(2, 3))
        feats = torch.relu(dense(descriptor, *self.feats))
        male = torch.sigmoid(dense(feats, *self.gender))[:, 0]
        age = torch.softmax(dense(feats, *self.age), dim=1)
        return male, age, descriptor


def build(tensors: Tensors) -> FaceResNet:
    return FaceResNet(tensors)
