"""Gatys et al. (2016) losses on backbone features, normalised like the seed's TensorFlow code.

Used by the optimize engine (style/engines/optimize.py) and by ``moodshift train style`` (train_style).
The normalisation fixes what the loss weights mean (seed 000: content 1e4, style 1e-2, TV 30):

* ``gram(F)`` for features F of shape (N, C, H, W) is ``F Fᵀ / (H W)``: a (N, C, C) matrix of
  channel correlations averaged over positions (so it does not grow with image size).
* ``content_loss`` = Σ over content layers of mean((F - F_target)²), divided by the number of
  content layers.
* ``style_loss`` = Σ over style layers of w_l · mean((G - G_target)²) over the C×C entries,
  divided by the number of style layers (w_l = 1 unless layer weights are given). Several target
  Gram sets (an emotion blend) are weighted sums of these per-style losses.
* ``tv_loss(x)`` = Σ |x[i+1, j] - x[i, j]| + Σ |x[i, j+1] - x[i, j]| over the RGB 0..1 image,
  summed (not averaged) over pixels and channels, per image, as tf.image.total_variation does.
  Being a sum, TV grows with the pixel count; the optimize engine therefore scales it by
  (512² / pixels), 512 px being the seed's working size, so one TV weight smooths alike at
  every size (docs/optimize.md).

total = content_weight · content_loss + style_weight · style_loss + tv_weight · tv_loss.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch


def gram(features: torch.Tensor) -> torch.Tensor:
    """Channel Gram matrix averaged over positions: (N, C, H, W) -> (N, C, C)."""
    n, c, h, w = features.shape
    if n == 1:  # one image (the optimize engine): mm is ~2x faster than bmm on wide layers
        flat = features.reshape(c, h * w)
        return (flat @ flat.t()).unsqueeze(0) / float(h * w)
    flat = features.reshape(n, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / float(h * w)


def content_loss(feats: Mapping[str, torch.Tensor], target_feats: Mapping[str, torch.Tensor],
                 layers: Sequence[str]) -> torch.Tensor:
    """Mean squared feature difference, averaged over the content layers."""
    total = sum(torch.mean((feats[name] - target_feats[name]) ** 2) for name in layers)
    return total / max(len(layers), 1)


def style_loss(feats: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor],
               layers: Sequence[str],
               weights: Mapping[str, float] | None = None) -> torch.Tensor:
    """Mean squared Gram difference, averaged over the style layers (optionally weighted).

    target_grams[name] is (C, C) or (N, C, C) (broadcast over the batch of feats).
    """
    total = 0.0
    for name in layers:
        g = gram(feats[name])
        layer_weight = 1.0 if weights is None else float(weights.get(name, 1.0))
        total = total + layer_weight * torch.mean((g - target_grams[name]) ** 2)
    return total / max(len(layers), 1)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation of (N, 3, H, W) images: summed absolute neighbour differences
    (mean over the batch)."""
    dy = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().sum()
    dx = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().sum()
    return (dy + dx) / x.shape[0]


__all__ = ["gram", "content_loss", "style_loss", "tv_loss"]
