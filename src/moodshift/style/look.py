"""An emotion's look beyond its colour grade: lighting fall-off, grain, softness, tint.

These are the finishing touches each palette entry may set in a ``[<emotion>.look]`` table
(all optional, all 0 = no change):

  vignette  0..1   darken toward the corners (low-key lighting: fear, anger, sadness)
  grain     0..1   film grain, SD up to 6 L* units (gritty: fear, disgust)
  softness  -1..1  + diffuse glow / blur (soft: happy, sad), - crisp unsharp mask (anger, surprise)
  tint      -1..1  + toward red-magenta (a* + 12), - toward green (a* - 12): anger's red vs
                   disgust's olive, which warmth (yellow-blue) alone cannot tell apart

Applied once, to the whole final image (large images band by band). Grain is seeded from the image size so the same photo
always gets the same grain.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from moodshift.style.bands import BAND_PIXELS

LOOK_KEYS = ("vignette", "grain", "softness", "tint")
LIMITS = {"vignette": (0.0, 1.0), "grain": (0.0, 1.0), "softness": (-1.0, 1.0),
          "tint": (-1.0, 1.0)}
MAX_GRAIN_L = 6.0
TINT_A = 12.0


@dataclass(frozen=True)
class Look:
    vignette: float = 0.0
    grain: float = 0.0
    softness: float = 0.0
    tint: float = 0.0

    def is_identity(self) -> bool:
        return not any(getattr(self, k) for k in LOOK_KEYS)

    def to_json(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in LOOK_KEYS}


def mean_look(weighted: list[tuple[Look, float]]) -> Look:
    return Look(**{k: float(sum(w * getattr(look, k) for look, w in weighted))
                   for k in LOOK_KEYS})


def apply_look(image: np.ndarray, look: Look, strength: float = 1.0) -> np.ndarray:
    """The look applied to an RGB uint8 image, scaled by strength (0: unchanged). Images above
    BAND_PIXELS are done in bands across their shorter side, each with enough rows around it for
    the blur, so no full-size float copy of a large image exists (their grain is seeded per
    band: the same image still always gets the same grain)."""
    if look.is_identity() or strength <= 0:
        return image
    h, w = image.shape[:2]
    if h * w <= BAND_PIXELS:
        return _look_rows(image, look, strength, (h, w), 0, h * 100003 + w)
    if w > h:  # the vignette is symmetric in x and y, so a transposed image gets the same look
        flipped = apply_look(np.ascontiguousarray(image.transpose(1, 0, 2)), look, strength)
        return np.ascontiguousarray(flipped.transpose(1, 0, 2))
    margin = 2 + (int(3 * _blur_sigma(look.softness, h)) if look.softness else 0)
    rows = max(1, BAND_PIXELS // w)
    out = np.empty_like(image)
    for band, y in enumerate(range(0, h, rows)):
        top, bottom = max(0, y - margin), min(h, y + rows + margin)
        done = _look_rows(image[top:bottom], look, strength, (h, w), top,
                          h * 100003 + w + 7919 * band)
        out[y:y + rows] = done[y - top:y - top + min(rows, h - y)]
    return out


def _blur_sigma(softness: float, side: int) -> float:
    return (0.006 if softness > 0 else 0.004) * side + 0.5


def _look_rows(rows: np.ndarray, look: Look, strength: float, full: tuple[int, int], top: int,
               seed: int) -> np.ndarray:
    """The look on the rows top.. of an image of size full (rows may be the whole image)."""
    h, w = full
    rgb = rows.astype(np.float32) / 255.0
    if look.softness:
        # never wider than the image along each axis: OpenCV pads by the kernel, and a 3 px
        # strip with a 600 px sigma would be padded to a 3,600-row float image
        sigma = _blur_sigma(look.softness, max(h, w))
        blur = cv2.GaussianBlur(rgb, (0, 0), sigmaX=min(sigma, rgb.shape[1] + 0.5),
                                sigmaY=min(sigma, rgb.shape[0] + 0.5))
        if look.softness > 0:  # a soft glow: blend in a blurred copy, lighter areas bloom more
            rgb = rgb + strength * look.softness * 0.6 * (np.maximum(rgb, blur) - rgb
                                                         + 0.5 * (blur - rgb))
        else:  # unsharp mask
            rgb = rgb + strength * (-look.softness) * 1.2 * (rgb - blur)
        del blur
    lab = cv2.cvtColor(np.clip(rgb, 0, 1), cv2.COLOR_RGB2Lab)
    del rgb
    if look.tint:
        lab[..., 1] += strength * look.tint * TINT_A
    if look.vignette:
        yy = np.arange(top, top + rows.shape[0], dtype=np.float32)[:, None]
        xx = np.arange(w, dtype=np.float32)[None, :]
        r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
        fall = np.clip(r2 - 0.35, 0, None) / 1.65   # 0 in the middle, 1 at the corners
        lab[..., 0] *= 1.0 - strength * look.vignette * 0.6 * fall
    if look.grain:
        rng = np.random.default_rng(seed)
        noise = rng.normal(0.0, 1.0, rows.shape[:2]).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
        lab[..., 0] += strength * look.grain * MAX_GRAIN_L * 1.6 * noise
    lab[..., 0] = np.clip(lab[..., 0], 0, 100)
    out = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)
