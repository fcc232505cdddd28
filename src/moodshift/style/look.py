"""An emotion's look beyond its colour grade: lighting fall-off, grain, softness, tint.

These are the finishing touches each palette entry may set in a ``[<emotion>.look]`` table
(all optional, all 0 = no change):

  vignette  0..1   darken toward the corners (low-key lighting: fear, anger, sadness)
  grain     0..1   film grain, SD up to 6 L* units (gritty: fear, disgust)
  softness  -1..1  + diffuse glow / blur (soft: happy, sad), - crisp unsharp mask (anger, surprise)
  tint      -1..1  + toward red-magenta (a* + 12), - toward green (a* - 12): anger's red vs
                   disgust's olive, which warmth (yellow-blue) alone cannot tell apart

Applied once, to the whole final image. Grain is seeded from the image size so the same photo
always gets the same grain.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

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
    """The look applied to an RGB uint8 image, scaled by strength (0: unchanged)."""
    if look.is_identity() or strength <= 0:
        return image
    h, w = image.shape[:2]
    rgb = image.astype(np.float32) / 255.0
    side = max(h, w)
    if look.softness > 0:  # a soft glow: blend in a blurred copy, lighter areas bloom more
        blur = cv2.GaussianBlur(rgb, (0, 0), 0.006 * side + 0.5)
        rgb = rgb + strength * look.softness * 0.6 * (np.maximum(rgb, blur) - rgb
                                                     + 0.5 * (blur - rgb))
    elif look.softness < 0:  # unsharp mask
        blur = cv2.GaussianBlur(rgb, (0, 0), 0.004 * side + 0.5)
        rgb = rgb + strength * (-look.softness) * 1.2 * (rgb - blur)
    lab = cv2.cvtColor(np.clip(rgb, 0, 1), cv2.COLOR_RGB2Lab)
    if look.tint:
        lab[..., 1] += strength * look.tint * TINT_A
    if look.vignette:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
        fall = np.clip(r2 - 0.35, 0, None) / 1.65   # 0 in the middle, 1 at the corners
        lab[..., 0] *= 1.0 - strength * look.vignette * 0.6 * fall
    if look.grain:
        rng = np.random.default_rng(h * 100003 + w)
        noise = rng.normal(0.0, 1.0, (h, w)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
        lab[..., 0] += strength * look.grain * MAX_GRAIN_L * 1.6 * noise
    lab[..., 0] = np.clip(lab[..., 0], 0, 100)
    out = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)
