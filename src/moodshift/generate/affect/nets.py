"""The affect generator network: noise + condition (emotion or VAD vector) in, RGB image out.

A small upsampling convolutional net: a linear layer maps the noise and the condition embedding
to a 3x3 or 4x4 feature map, then blocks of (bilinear 2x upsample, 3x3 conv, FiLM by the
condition, leaky ReLU) double the resolution up to ``image_size``, and a 3x3 conv + sigmoid gives
RGB in 0..1 (for emotion models one grey channel repeated to RGB: the classifier they are
trained against sees only luminance).
FiLM (feature-wise scale and shift computed from the condition; Perez et al. 2018) in every block
keeps the condition from being washed out in the deeper layers. No normalisation layers: batch
statistics would mix the conditions of a batch.
"""

from __future__ import annotations

import torch
from torch import nn

KINDS = ("emotion", "vad")
# Sides the up-sampling blocks can reach: 3 or 4 times a power of two.
IMAGE_SIZES = (16, 24, 32, 48, 64, 96, 128)
COND_DIM = {"emotion": 7, "vad": 3}


def start_size(image_size: int) -> tuple[int, int]:
    """(start side, number of doubling blocks) for an output of 3 * 2^k or 4 * 2^k pixels."""
    side, blocks = image_size, 0
    while side > 4 and side % 2 == 0:
        side, blocks = side // 2, blocks + 1
    if side not in (3, 4) or blocks < 1:
        raise ValueError(f"image_size must be 3 * 2^k or 4 * 2^k (16, 24, 32, 48, 64, 96, "
                         f"128), not {image_size}")
    return side, blocks


class FiLMBlock(nn.Module):
    def __init__(self, cin: int, cout: int, cond: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(cond, 2 * cout)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        x = self.conv(nn.functional.interpolate(x, scale_factor=2, mode="bilinear",
                                                align_corners=False))
        gamma, beta = self.film(c).chunk(2, dim=1)
        return self.act(x * (1 + gamma[:, :, None, None]) + beta[:, :, None, None])


class AffectGeneratorNet(nn.Module):
    """G(z, condition) -> (n, 3, image_size, image_size) in 0..1 (see the module docstring)."""

    def __init__(self, kind: str = "emotion", z_dim: int = 64, width: int = 32,
                 image_size: int = 64, embed_dim: int = 32, channels: int | None = None) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        start, blocks = start_size(image_size)
        self.kind, self.z_dim, self.image_size = kind, z_dim, image_size
        # The expression classifier sees only luminance, so colour would be left to drift
        # (garish, unconstrained by the objective): emotion generators draw grey by default.
        self.channels = channels or (1 if kind == "emotion" else 3)
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, not {channels}")
        self.embed = nn.Sequential(nn.Linear(COND_DIM[kind], embed_dim), nn.LeakyReLU(0.2))
        # channels per block: 6w at the start size, halving (not below w) as the size doubles
        chans = [max(width, (6 * width) >> i) for i in range(blocks + 1)]
        self.fc = nn.Linear(z_dim + embed_dim, chans[0] * start * start)
        self.blocks = nn.ModuleList(FiLMBlock(a, b, embed_dim) for a, b in zip(chans, chans[1:]))
        self.to_rgb = nn.Conv2d(chans[-1], self.channels, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)
        self._c0, self._start = chans[0], start

    def forward_logits(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid outputs (n, channels, S, S): training penalises their size."""
        c = self.embed(cond)
        x = self.act(self.fc(torch.cat([z, c], dim=1))).view(-1, self._c0, self._start, self._start)
        for block in self.blocks:
            x = block(x, c)
        return self.to_rgb(x)

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.forward_logits(z, cond)).expand(-1, 3, -1, -1)
