"""Differentiable versions of moodshift's frozen judges, and the generator's training losses.

* ``mood_vad``: moodshift.mood's colour-affect valence/arousal/dominance re-expressed in torch
  (sRGB -> CIELAB as OpenCV's float conversion, the same z-scores, hue anchors and tanh squash),
  so a generator can be trained to hit a VAD target. It matches ``measure_mood`` on images of at
  most 128 px (mood.py downsamples larger ones first; the generator's outputs are smaller).
* ``FrozenClassifier``: one of moodshift's own expression networks (shipped msnet or a training
  output) with its preprocessing (grey, resize to the stored size, central view, normalisation)
  done in torch, plus random small warps and mirroring (expectation over transformations), so the
  generator cannot win with pixel patterns that only work at one exact alignment.
* ``mode_seeking_loss``: the diversity term of Mao et al. (2019), "Mode Seeking Generative
  Adversarial Networks for Diverse Image Synthesis" (CVPR): two noise vectors with the same
  condition should give images whose distance is large relative to the distance of the noises.
* ``total_variation``: smoothness, so targets are not reached with high-frequency noise.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from moodshift import mood
from moodshift.emotions import EMOTION_VAD, EMOTIONS
from moodshift.errors import UserError

# sRGB (D65) -> XYZ, as OpenCV's RGB2Lab, rows X, Y, Z already divided by the white point.
_RGB2XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                         [0.212671, 0.715160, 0.072169],
                         [0.019334, 0.119193, 0.950227]], dtype=torch.float64)
_WHITE = torch.tensor([0.950456, 1.0, 1.088754], dtype=torch.float64)
_EPS = 1e-6


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(n, 3, H, W) sRGB in 0..1 -> (n, 3, H, W) CIELAB (L 0..100), OpenCV's float formulas."""
    lin = torch.where(rgb <= 0.04045, rgb / 12.92,
                      ((rgb.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4)
    m = (_RGB2XYZ / _WHITE[:, None]).to(rgb)
    xyz = torch.einsum("ij,njhw->nihw", m, lin)
    t = 0.008856
    f = torch.where(xyz > t, xyz.clamp_min(t) ** (1.0 / 3.0), 7.787 * xyz + 16.0 / 116.0)
    y = xyz[:, 1]
    lum = torch.where(y > t, 116.0 * f[:, 1] - 16.0, 903.3 * y)
    a = 500.0 * (f[:, 0] - f[:, 1])
    b = 200.0 * (f[:, 1] - f[:, 2])
    return torch.stack([lum, a, b], dim=1)


def _hue_pleasantness(hue_deg: torch.Tensor) -> torch.Tensor:
    """Torch version of mood._hue_pleasantness: periodic piecewise-linear interpolation."""
    anchors = mood.HUE_ANCHORS
    xs = np.concatenate([anchors[-1:, 0] - 360.0, anchors[:, 0], anchors[:1, 0] + 360.0])
    ys = np.concatenate([anchors[-1:, 1], anchors[:, 1], anchors[:1, 1]])
    xs_t = torch.tensor(xs, dtype=hue_deg.dtype)
    ys_t = torch.tensor(ys, dtype=hue_deg.dtype)
    h = torch.remainder(hue_deg, 360.0)
    idx = torch.bucketize(h.detach(), xs_t[1:-1])       # segment index in 0..len-2
    x0, x1 = xs_t[idx], xs_t[idx + 1]
    y0, y1 = ys_t[idx], ys_t[idx + 1]
    return y0 + (y1 - y0) * (h - x0) / (x1 - x0)


def _z(value: torch.Tensor, ref: tuple[float, float]) -> torch.Tensor:
    return ((value - ref[0]) / ref[1]).clamp(-mood.Z_CLIP, mood.Z_CLIP)


def mood_vad(rgb: torch.Tensor) -> torch.Tensor:
    """Differentiable colour-affect (valence, arousal, dominance) of (n, 3, H, W) RGB in 0..1.

    Same statistics and weights as moodshift.mood.measure_mood_details (see mood.py)."""
    if rgb.shape[-1] > mood.MAX_SIDE or rgb.shape[-2] > mood.MAX_SIDE:
        rgb = F.adaptive_avg_pool2d(rgb, _fit(rgb.shape[-2:], mood.MAX_SIDE))
    lab = rgb_to_lab(rgb)
    lum, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma = torch.sqrt(a * a + b * b + _EPS)
    # atan2's gradient is undefined at a = b = 0; those pixels have weight ~0 below anyway
    hue = torch.rad2deg(torch.atan2(b, a + _EPS))
    weight = (chroma / mood.CHROMA_FULL).clamp(max=1.0)
    hue_term = (_hue_pleasantness(hue) * weight).mean(dim=(1, 2))

    r, g, bl = rgb[:, 0] * 255.0, rgb[:, 1] * 255.0, rgb[:, 2] * 255.0
    rg, yb = r - g, 0.5 * (r + g) - bl
    spread = torch.sqrt(rg.var(dim=(1, 2), unbiased=False) + yb.var(dim=(1, 2), unbiased=False)
                        + _EPS)
    offset = torch.sqrt(rg.mean(dim=(1, 2)) ** 2 + yb.mean(dim=(1, 2)) ** 2 + _EPS)
    colourfulness = spread + 0.3 * offset

    bz = _z(lum.mean(dim=(1, 2)), mood.REF_LIGHTNESS)
    sz = _z(chroma.mean(dim=(1, 2)), mood.REF_CHROMA)
    kz = _z(lum.std(dim=(1, 2), unbiased=False), mood.REF_CONTRAST)
    mz = _z(colourfulness, mood.REF_COLOURFULNESS)
    pleasure = 0.69 * bz + 0.22 * sz + mood.HUE_WEIGHT * hue_term
    arousal = -0.31 * bz + 0.60 * sz + 0.25 * kz + 0.15 * mz
    dominance = -0.76 * bz + 0.32 * sz
    return torch.tanh(torch.stack([pleasure, arousal, dominance], dim=1) / mood.SQUASH)


def _fit(hw: torch.Size, side: int) -> tuple[int, int]:
    h, w = int(hw[0]), int(hw[1])
    scale = side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def emotion_vad_table() -> torch.Tensor:
    """(7, 3) VAD coordinates of EMOTIONS, in order."""
    return torch.tensor([EMOTION_VAD[e].as_tuple() for e in EMOTIONS], dtype=torch.float32)


class FrozenClassifier:
    """A moodshift expression network, frozen, taking (n, 3, S, S) RGB in 0..1 in torch."""

    def __init__(self, model: torch.nn.Module, config: dict[str, object], source: str) -> None:
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.source = source
        self.store_size = int(config["store_size"])
        self.img_size = int(config["img_size"])
        self.crop_fraction = float(config["crop_fraction"])
        self.channels = int(config["channels"])
        self.mean, self.std = float(config["mean"]), float(config["std"])

    @classmethod
    def load(cls, name_or_path: str = "moodshift") -> "FrozenClassifier":
        """``moodshift`` (the shipped msnet, checksum-verified) or a training output path."""
        from moodshift.expression.own import MoodshiftExpression

        if name_or_path.strip().lower() in ("moodshift", "msnet", "own", "auto"):
            wrapped = MoodshiftExpression.shipped(precision="fp32")
        else:
            if not Path(name_or_path).exists():
                raise UserError(f"{name_or_path}: no such classifier (use moodshift or the "
                                "path of a `moodshift train expression` output)")
            wrapped = MoodshiftExpression.from_path(name_or_path, precision="fp32")
        model = wrapped.model.to(memory_format=torch.contiguous_format).float()
        return cls(model, wrapped.config, wrapped.source or name_or_path)

    def views(self, rgb: torch.Tensor, gen: torch.Generator | None = None,
              jitter: bool = False) -> torch.Tensor:
        """Normalised network input: grey (Pillow's L weights), resized to the stored size with
        antialiasing, then the central view (or, with jitter, a randomly warped and mirrored
        one: rotation +-10 deg, scale +-8 %, shift +-6 %)."""
        grey = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).unsqueeze(1)
        if grey.shape[-1] != self.store_size:
            grey = F.interpolate(grey, size=(self.store_size, self.store_size), mode="bilinear",
                                 align_corners=False, antialias=True)
        n = grey.shape[0]
        theta = torch.zeros(n, 2, 3)
        if jitter:
            ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(10.0)
            scale = 1 + (torch.rand(n, generator=gen) * 2 - 1) * 0.08
            flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
            c, s = torch.cos(ang) * scale * self.crop_fraction, torch.sin(ang) * scale * \
                self.crop_fraction
            theta[:, 0, 0], theta[:, 0, 1] = c * flip, -s
            theta[:, 1, 0], theta[:, 1, 1] = s * flip, c
            theta[:, :, 2] = (torch.rand(n, 2, generator=gen) * 2 - 1) * 0.06
        else:
            theta[:, 0, 0] = theta[:, 1, 1] = self.crop_fraction
        grid = F.affine_grid(theta.to(grey), [n, 1, self.img_size, self.img_size],
                             align_corners=False)
        x = F.grid_sample(grey, grid, mode="bilinear", padding_mode="border",
                          align_corners=False)
        x = (x - self.mean) / self.std
        return x.expand(-1, self.channels, -1, -1) if self.channels != 1 else x

    def logits(self, rgb: torch.Tensor, gen: torch.Generator | None = None,
               jitter: bool = False) -> torch.Tensor:
        return self.model(self.views(rgb, gen, jitter))

    @torch.no_grad()
    def probabilities(self, rgb: torch.Tensor) -> torch.Tensor:
        """Test-time reading: central view and its mirror, softmax averaged (as own.py)."""
        x = self.views(rgb)
        return (torch.softmax(self.model(x), 1) + torch.softmax(self.model(x.flip(-1)), 1)) / 2


def mode_seeking_loss(img_a: torch.Tensor, img_b: torch.Tensor, z_a: torch.Tensor,
                      z_b: torch.Tensor, pool: int = 2) -> torch.Tensor:
    """Mao et al.'s mode-seeking term, 1 / (d_img / d_z + eps), averaged over pairs.

    Image distance is the mean absolute difference after ``pool``x``pool`` average pooling, so
    per-pixel noise does not count as diversity; the loss saturates once images differ enough."""
    if pool > 1:
        img_a, img_b = F.avg_pool2d(img_a, pool), F.avg_pool2d(img_b, pool)
    d_img = (img_a - img_b).abs().flatten(1).mean(1)
    d_z = (z_a - z_b).abs().flatten(1).mean(1)
    return (1.0 / (d_img / d_z + 1e-5)).mean()


def total_variation(img: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels."""
    dx = (img[..., :, 1:] - img[..., :, :-1]).abs().mean()
    dy = (img[..., 1:, :] - img[..., :-1, :]).abs().mean()
    return dx + dy
