"""The inside of a mouth the edit opened: teeth travel with their lips, the gap is the cavity.

A smooth displacement field stretches whatever lay between the lips: a grin's teeth became
tall grey bars, a closed mouth's lip line a pink smear. Real mouths open the other way: the
upper teeth stay under the upper lip and the lower teeth and tongue on the lower lip, and the
dark oral cavity appears between them. So the interior is re-drawn here from the unwarped photo.
Across the mouth (``s``, 0 at one inner corner, 1 at the other) and down from each lip (``t``),
each lip carries its half of the mouth's old interior at its old height, moved rigidly with
it; what lies between is cavity, darker under the upper teeth and toward the corners, its
colour taken from the photo's own open mouth where there is one.
"""

from __future__ import annotations

import cv2
import numpy as np

from moodshift.faces.masks import LIPS_INNER, LOWER_INNER, UPPER_INNER, polygon_mask

MIN_GROWTH = 0.03        # the opening must grow by this (eye distance = 1) to be re-drawn
SOFT = 0.025             # width of the teeth-to-cavity blend (eye distance = 1)
TONGUE = 0.6             # how much of a wide opening's bottom shows the tongue
TONGUE_OPENING = 0.2     # cavity height (eye distance = 1) at which the tongue shows fully
TONGUE_LIGHT = np.array([2.1, 1.9, 1.9], np.float32)   # the tongue against the cavity's colour
DEFAULT_CAVITY = np.array([0.30, 0.13, 0.12], np.float32)   # of the skin's colour, per channel


def lip_opening(points: np.ndarray, eye: float) -> float:
    """Gap between the inner lips at the middle of the mouth, in eye distances."""
    return float(np.hypot(*(points[14, :2] - points[13, :2])) / max(eye, 1e-6))


class _MouthFrame:
    """Coordinates across (s) and down (t, pixels) the mouth of one set of landmarks."""

    def __init__(self, points: np.ndarray) -> None:
        self.origin = points[78, :2].astype(np.float64)
        along = points[308, :2] - self.origin
        self.width = max(float(np.hypot(*along)), 1e-6)
        self.axis = along / self.width
        self.down = np.array([-self.axis[1], self.axis[0]])
        self.upper = self._profile(points, UPPER_INNER)
        self.lower = self._profile(points, LOWER_INNER)

    def _profile(self, points: np.ndarray, idx: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        s, t = self.coords(points[list(idx), :2])
        order = np.argsort(s)
        return s[order], t[order]

    def coords(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = np.asarray(xy, np.float64) - self.origin
        return rel @ self.axis / self.width, rel @ self.down

    def lips_at(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """t of the upper and the lower inner lip at each s."""
        return np.interp(s, *self.upper), np.interp(s, *self.lower)

    def point(self, s: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = (self.origin[:, None] + np.outer(self.axis, s * self.width)
              + np.outer(self.down, t))
        return xy[0], xy[1]


def cavity_colour(original: np.ndarray, before: _MouthFrame, eye: float) -> np.ndarray:
    """RGB of the oral cavity: the darkest fifth of the photo's own mouth gap when it is open,
    else the skin around the mouth darkened toward a deep red."""
    u_s, u_t = before.upper
    l_s, l_t = before.lower
    gap = np.concatenate([np.stack(before.point(u_s, u_t), 1),
                          np.stack(before.point(l_s[::-1], l_t[::-1]), 1)])
    (x0, y0), (x1, y1) = np.maximum(np.floor(gap.min(0)).astype(int), 0), np.ceil(
        gap.max(0)).astype(int) + 1
    crop = original[y0:y1, x0:x1]
    inside = polygon_mask(crop.shape[:2], [gap - (x0, y0)], 0.0) > 0.5 if crop.size else \
        np.zeros((0, 0), bool)
    if inside.sum() >= 20:
        pixels = crop[inside].astype(np.float32)
        lum = pixels.mean(1)
        dark = pixels[lum <= np.quantile(lum, 0.2)]
        if float(dark.mean()) < 70:
            return dark.mean(0)
    centre = before.point(np.array([0.5]), np.array([0.0]))
    cx, cy = int(round(centre[0][0])), int(round(centre[1][0]))
    r = max(int(round(0.6 * eye)), 2)
    patch = original[max(cy - r, 0):cy + r, max(cx - r, 0):cx + r].reshape(-1, 3)
    skin = np.median(patch, 0).astype(np.float32) if len(patch) else np.full(3, 180.0)
    return skin * DEFAULT_CAVITY


def cavity_pixels(colour: np.ndarray, s: np.ndarray, t: np.ndarray, top: np.ndarray,
                  bottom: np.ndarray, eye: float) -> np.ndarray:
    """(n, 3) cavity colours at mouth coordinates: darkest under the upper teeth and toward the
    corners, the tongue's lighter red rising from the bottom of a wide opening."""
    height = np.maximum(bottom - top, 1e-6)
    v = np.clip((t - top) / height, 0.0, 1.0)             # 0 under the upper teeth, 1 at bottom
    centre = np.clip(1.0 - np.abs(2.0 * s - 1.0), 0.0, 1.0) ** 0.5
    shade = (0.55 + 0.45 * v) * (0.6 + 0.4 * centre)
    tongue = TONGUE * np.clip(height / (TONGUE_OPENING * eye), 0, 1) * centre * (
        np.clip((v - 0.45) / 0.55, 0, 1) ** 2)
    dark = colour[None, :] * shade[:, None]
    lit = colour[None, :] * TONGUE_LIGHT
    return dark * (1 - tongue[:, None]) + lit * tongue[:, None]


def open_mouth(original: np.ndarray, warped: np.ndarray, before: np.ndarray,
               after: np.ndarray, eye: float) -> np.ndarray:
    """``warped`` with the interior of its inner lips re-drawn from ``original`` (both the same
    region of the face; landmarks ``before`` and ``after`` the warp, in its pixels), when the
    warp opened the mouth by at least MIN_GROWTH; else ``warped`` unchanged."""
    if lip_opening(after, eye) - lip_opening(before, eye) < MIN_GROWTH:
        return warped
    shape = warped.shape[:2]
    inner = after[list(LIPS_INNER), :2]
    feather = max(0.006 * eye, 0.5)
    pad = int(np.ceil(3 * feather)) + 2
    x0, y0 = np.floor(inner.min(0)).astype(int) - pad
    x1, y1 = np.ceil(inner.max(0)).astype(int) + pad + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, shape[1]), min(y1, shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return warped
    frame0, frame1 = _MouthFrame(before), _MouthFrame(after)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    s, t = frame1.coords(np.stack([xs.ravel(), ys.ravel()], 1))
    s = np.clip(s, 0.0, 1.0)
    top, bottom = frame1.lips_at(s)
    top0, bottom0 = frame0.lips_at(s)
    half = np.maximum(bottom0 - top0, 0.0) / 2          # each lip's share of the old interior
    below_top, above_bottom = t - top, bottom - t
    from_top = below_top <= above_bottom
    src_t = np.where(from_top, top0 + below_top, bottom0 - above_bottom)
    depth = np.minimum(below_top, above_bottom) - half   # > 0: past what either lip carried
    sx, sy = frame0.point(s, src_t)
    carried = cv2.remap(original, sx.reshape(ys.shape).astype(np.float32),
                        sy.reshape(ys.shape).astype(np.float32), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    soft = max(SOFT * eye, 0.75)
    cavity_share = np.clip(depth / soft + 0.5, 0.0, 1.0).reshape(ys.shape)[..., None]
    # teeth next to the cavity lie in its shadow
    shadow = 1.0 - 0.3 * np.clip(1.0 + depth / (2 * soft), 0, 1).reshape(ys.shape)
    cavity = cavity_pixels(cavity_colour(original, frame0, eye), s, t, top + half,
                           bottom - half, eye).reshape(*ys.shape, 3)
    inside = carried * shadow[..., None] * (1 - cavity_share) + cavity * cavity_share
    mask = polygon_mask((y1 - y0, x1 - x0), [inner - (x0, y0)], feather)
    box = warped[y0:y1, x0:x1].astype(np.float32)
    out = warped.copy()
    out[y0:y1, x0:x1] = np.clip(box * (1 - mask[..., None]) + inside * mask[..., None] + 0.5,
                                0, 255).astype(np.uint8)
    return out
