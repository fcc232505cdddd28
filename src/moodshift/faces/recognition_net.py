"""The PyTorch port of face-api's face recognition network (npm ``@vladmandic/face-api``).

face-api's FaceRecognitionNet is a ResNet-34-like network after dlib's face recognition model:
a 150x150 RGB face, ``(pixel - mean_rgb) / 255``, a 7x7 stride-2 conv and a 3x3 stride-2 max
pool (both VALID), then residual stages of 32, 64, 128 and 256 channels, mean pooling and a
256 -> 128 linear map: the 128-d face descriptor. Every conv is followed by its bias and a
per-channel scale layer (``x * weights + biases``). A down-sampling residual block convolves
with stride 2 (VALID) and takes the shortcut through a 2x2 average pool, zero channels appended
where the block widens and its own output zero-padded at the bottom/right where the VALID conv
came out one pixel smaller than the pool.

Only used to export the ONNX model (``moodshift models pull``) and as the fallback when that
export is missing; inference (moodshift.faces.recognition) imports it lazily through
moodshift.models.runtime.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from moodshift.faces.tflayers import Tensors, conv_filter, tensor

# (name, down-sampling) in order; the first block of a wider stage down-samples
BLOCKS = (("conv32_1", False), ("conv32_2", False), ("conv32_3", False),
          ("conv64_down", True), ("conv64_1", False), ("conv64_2", False), ("conv64_3", False),
          ("conv128_down", True), ("conv128_1", False), ("conv128_2", False),
          ("conv256_down", True), ("conv256_1", False), ("conv256_2", False),
          ("conv256_down_out", True))


class ScaledConv:
    """conv (stride 1 SAME, or VALID with a stride) + bias, then the scale layer."""

    def __init__(self, t: Tensors, prefix: str, stride: int) -> None:
        weight = conv_filter(tensor(t, f"{prefix}/conv/filters"))
        scale = tensor(t, f"{prefix}/scale/weights")
        # the scale layer folded into the conv: (w x + b) * s + c = (s w) x + (s b + c)
        self.weight = weight * scale.view(-1, 1, 1, 1)
        self.bias = tensor(t, f"{prefix}/conv/bias") * scale + tensor(t, f"{prefix}/scale/biases")
        self.stride = stride
        # 3x3 SAME at stride 1 is symmetric; the strided convs are VALID
        self.padding = int(weight.shape[2]) // 2 if stride == 1 else 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class Residual:
    def __init__(self, t: Tensors, prefix: str, down: bool) -> None:
        self.conv1 = ScaledConv(t, f"{prefix}/conv1", 2 if down else 1)
        self.conv2 = ScaledConv(t, f"{prefix}/conv2", 1)
        self.down = down

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(torch.relu(self.conv1(x)))
        if not self.down:
            return torch.relu(out + x)
        shortcut = F.avg_pool2d(x, 2, 2)
        if shortcut.shape[1] != out.shape[1]:
            shortcut = torch.cat([shortcut, torch.zeros_like(shortcut)], dim=1)
        short_h = int(shortcut.shape[2]) - int(out.shape[2])
        short_w = int(shortcut.shape[3]) - int(out.shape[3])
        if short_h or short_w:
            out = F.pad(out, (0, short_w, 0, short_h))
        return torch.relu(out + shortcut)


class FaceRecognitionNet:
    """(n, 3, 150, 150) normalised RGB -> (n, 128) face descriptors (not normalised)."""

    def __init__(self, t: Tensors) -> None:
        self.stem = ScaledConv(t, "conv32_down", 2)
        self.blocks = [Residual(t, name, down) for name, down in BLOCKS]
        self.fc = tensor(t, "fc")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = F.max_pool2d(torch.relu(self.stem(x)), 3, 2)
        for block in self.blocks:
            out = block(out)
        return out.mean(dim=(2, 3)) @ self.fc


def build(tensors: Tensors) -> FaceRecognitionNet:
    return FaceRecognitionNet(tensors)
