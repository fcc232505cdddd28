"""Batched augmentation and test-time views for expression training, all in torch.

Images are uint8 tensors (n, S, S); the network sees normalised (n, c, s, s) views: a random
affine warp (rotation, scale, shift, mirror) plus brightness/contrast jitter and random erasing
while training, the central crop and its mirror image at test time.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from moodshift.emotions import EMOTIONS

NORM_MEAN = 0.5               # inputs are (x/255 - mean) / std
NORM_STD = 0.25


def view_batch(images: torch.Tensor, img_size: int, crop_fraction: float, channels: int,
               theta: torch.Tensor | None = None, mean: float = NORM_MEAN,
               std: float = NORM_STD) -> torch.Tensor:
    """uint8 (n, S, S) -> normalised float (n, channels, img_size, img_size), channels-last.

    Without ``theta``: the central ``crop_fraction`` of each image, resampled to img_size."""
    x = images.unsqueeze(1).float().div_(255.0)
    n = x.shape[0]
    if theta is None:
        if x.shape[-1] == img_size and crop_fraction == 1.0:
            out = x
        elif abs(x.shape[-1] * crop_fraction - img_size) < 1e-6:   # exact integer crop
            off = (x.shape[-1] - img_size) // 2
            out = x[:, :, off:off + img_size, off:off + img_size]
        else:
            theta = torch.zeros(n, 2, 3)
            theta[:, 0, 0] = theta[:, 1, 1] = crop_fraction
    if theta is not None:
        grid = F.affine_grid(theta, [n, 1, img_size, img_size], align_corners=False)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    out = (out - mean) / std
    if channels != 1:
        out = out.expand(-1, channels, -1, -1)
    return out.contiguous(memory_format=torch.channels_last)


def random_theta(n: int, crop_fraction: float, gen: torch.Generator, degrees: float = 15.0,
                 scale: float = 0.1, shift: float = 0.08, flip: bool = True) -> torch.Tensor:
    """Per-sample affine maps (output -> input coordinates) for F.affine_grid."""
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(degrees)
    s = crop_fraction / (1 + (torch.rand(n, generator=gen) * 2 - 1) * scale)
    fx = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = s * torch.cos(ang) * fx
    theta[:, 0, 1] = -s * torch.sin(ang)
    theta[:, 1, 0] = s * torch.sin(ang) * fx
    theta[:, 1, 1] = s * torch.cos(ang)
    theta[:, :, 2] = (torch.rand(n, 2, generator=gen) * 2 - 1) * shift
    return theta


def photometric(x: torch.Tensor, gen: torch.Generator, erase_p: float = 0.5) -> torch.Tensor:
    """Brightness/contrast jitter and random erasing on a normalised batch (in place)."""
    n, _, h, w = x.shape
    c = 1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 0.25
    b = (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 0.4
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - m) * c + m + b
    if erase_p > 0:
        area = (0.02 + torch.rand(n, generator=gen) * 0.18) * h * w
        aspect = torch.exp((torch.rand(n, generator=gen) * 2 - 1) * math.log(3))
        eh = (area * aspect).sqrt().clamp(1, h).long()
        ew = (area / aspect).sqrt().clamp(1, w).long()
        y0 = (torch.rand(n, generator=gen) * (h - eh + 1)).long()
        x0 = (torch.rand(n, generator=gen) * (w - ew + 1)).long()
        ys = torch.arange(h).view(1, h, 1)
        xs = torch.arange(w).view(1, 1, w)
        mask = ((ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1))
                & (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1)))
        mask &= (torch.rand(n, generator=gen) < erase_p).view(n, 1, 1)
        x = x.masked_fill(mask.unsqueeze(1), 0.0)
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def predict_logits_tta(model: nn.Module, images: torch.Tensor, img_size: int,
                       crop_fraction: float, channels: int, batch: int = 256,
                       autocast: bool = False) -> torch.Tensor:
    """Softmax probabilities (n, 7) averaged over the central view and its mirror image."""
    model.eval()
    outs = []
    for i in range(0, images.shape[0], batch):
        x = view_batch(images[i:i + batch], img_size, crop_fraction, channels)
        x = torch.cat([x, x.flip(-1)])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            p = model(x).float().softmax(1)
        k = p.shape[0] // 2
        outs.append((p[:k] + p[k:]) / 2)
    return torch.cat(outs) if outs else torch.zeros(0, len(EMOTIONS))
