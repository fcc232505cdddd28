"""Expression-classifier architectures, by name.

Every constructor takes ``num_classes`` (7) and keyword options, and returns an ``nn.Module`` whose
``forward`` maps a float batch ``(n, c, s, s)`` to logits ``(n, num_classes)``. Each module carries
``in_channels`` and ``img_size`` (its native input). A new backbone is one entry in ``ARCHS``.

- ``msnet``: moodshift's own default: a compact VGG-style network with batch norm for 44x44 grey
  face crops (random 44 px crops of FER2013's 48 px framing). Four stages of two 3x3 convolutions
  (widths w, 2w, 4w, 8w), max pooling between stages, global average pooling, dropout, linear.
- ``padalia21``: the network of Padalia et al. (2021) as published: 128x128x3 input; five blocks of
  valid 3x3 conv (ReLU) + batch norm + 2x2 max pool with 16, 32, 64, 128, 256 filters; dropout 0.25
  after blocks 2 and 4; flatten; dense 512, 256 (ReLU); 7-way output (softmax in the loss).
- ``tiny``: a few thousand parameters, for tests.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def _conv_bn(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class MSNet(nn.Module):
    """moodshift's compact VGG-style expression network (grey input, ~1.2M params at width 32)."""

    def __init__(self, num_classes: int = 7, width: int = 32, img_size: int = 44,
                 dropout: float = 0.3, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.img_size = img_size
        w = width
        layers: list[nn.Module] = []
        layers += _conv_bn(in_channels, w) + _conv_bn(w, w) + [nn.MaxPool2d(2)]
        layers += _conv_bn(w, 2 * w) + _conv_bn(2 * w, 2 * w) + [nn.MaxPool2d(2)]
        layers += _conv_bn(2 * w, 4 * w) + _conv_bn(4 * w, 4 * w) + [nn.MaxPool2d(2)]
        layers += _conv_bn(4 * w, 8 * w) + _conv_bn(8 * w, 8 * w)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(8 * w, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x)).flatten(1)
        return self.classifier(self.dropout(x))


class Padalia21(nn.Module):
    """Padalia et al. (2021), exactly as published (see the module docstring)."""

    def __init__(self, num_classes: int = 7, img_size: int = 128, in_channels: int = 3) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.img_size = img_size
        blocks: list[nn.Module] = []
        cin, size = in_channels, img_size
        for i, cout in enumerate((16, 32, 64, 128, 256)):
            # Keras Conv2D(activation="relu", padding="valid") -> BatchNormalization -> MaxPool2D
            blocks += [nn.Conv2d(cin, cout, 3), nn.ReLU(inplace=True),
                       nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01), nn.MaxPool2d(2)]
            if i in (1, 3):
                blocks.append(nn.Dropout(0.25))
            cin, size = cout, (size - 2) // 2
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(cin * size * size, 512), nn.ReLU(inplace=True),
            nn.Linear(512, 256), nn.ReLU(inplace=True), nn.Linear(256, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class TinyNet(nn.Module):
    """A few thousand parameters: for tests only."""

    def __init__(self, num_classes: int = 7, img_size: int = 32, in_channels: int = 1,
                 width: int = 8) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.img_size = img_size
        self.features = nn.Sequential(*_conv_bn(in_channels, width), nn.MaxPool2d(2),
                                      *_conv_bn(width, 2 * width), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


ARCHS: dict[str, Callable[..., nn.Module]] = {
    "msnet": MSNet,
    "padalia21": Padalia21,
    "tiny": TinyNet,
}

# Native input per architecture: (image size, channels); the training data is resized to it.
DEFAULT_INPUT: dict[str, tuple[int, int]] = {"msnet": (44, 1), "padalia21": (128, 3), "tiny": (32, 1)}


def build(arch: str, num_classes: int = 7, **options: object) -> nn.Module:
    """Construct an architecture by name; unknown names raise a UserError listing the known ones."""
    if arch not in ARCHS:
        from moodshift.errors import UserError

        raise UserError(f"unknown architecture {arch!r}: choose one of {', '.join(sorted(ARCHS))}")
    return ARCHS[arch](num_classes=num_classes, **options)
