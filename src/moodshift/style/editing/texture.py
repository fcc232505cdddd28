"""Per-region shading that geometry alone cannot show: the brow furrows of AU4, the nasolabial
folds of AU6+12 / AU9+10, and teeth hidden behind lips that should stay closed.

All of it is drawn in the face's own moved-landmark positions, feathered, and applied as
multiplicative shading (folds, furrows) or alpha-blended fill (teeth), so it follows the photo's
lighting. The inside of a mouth the edit opened is moodshift.style.editing.mouth's.
"""

from __future__ import annotations

import cv2
import numpy as np

from moodshift.faces.masks import LIPS_OUTER, LOWER_INNER, UPPER_INNER, polygon_mask


def _lines(shape: tuple[int, int], polylines: list[np.ndarray], width: float,
           blur: float) -> np.ndarray:
    canvas = np.zeros(shape, np.float32)
    for line in polylines:
        cv2.polylines(canvas, [np.round(line).astype(np.int32)], False, 1.0,
                      thickness=max(int(round(width)), 1), lineType=cv2.LINE_AA)
    return cv2.GaussianBlur(canvas, (0, 0), max(blur, 0.5))


def shade(image: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Darken by ``amount`` (0..1 per pixel) multiplicatively."""
    out = image.astype(np.float32) * (1.0 - np.clip(amount, 0, 1))[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def furrows(points: np.ndarray, eye: float, shape: tuple[int, int]) -> np.ndarray:
    """Two short vertical creases between the inner brows (corrugator, AU4)."""
    r, left = points[107, :2], points[336, :2]
    mid = (r + left) / 2
    half_gap = 0.09 * eye
    lines = [np.array([[mid[0] + s * half_gap, mid[1] - 0.02 * eye],
                       [mid[0] + s * half_gap * 0.8, mid[1] + 0.13 * eye]]) for s in (-1, 1)]
    return _lines(shape, lines, 0.025 * eye, 0.02 * eye)


def nasolabial(points: np.ndarray, eye: float, shape: tuple[int, int]) -> np.ndarray:
    """The folds from each nose wing past the mouth corner (AU6+12, AU9+10)."""
    lines = []
    for wing, corner in ((129, 61), (358, 291)):
        a, c = points[wing, :2], points[corner, :2]
        out = np.sign(c[0] - points[1, 0]) * 0.07 * eye
        lines.append(np.array([a + (0.0, 0.02 * eye), (a + c) / 2 + (out, 0.0),
                               c + (out * 1.2, 0.08 * eye)]))
    return _lines(shape, lines, 0.03 * eye, 0.025 * eye)


# The lips' fill is smooth, so it is inpainted at most at this eye distance and scaled up: a
# 4K portrait's mouth took a third of a second at full size.
INPAINT_EYE_PX = 64.0


def _inpaint(part: np.ndarray, mask: np.ndarray, eye: float) -> np.ndarray:
    """``part`` with its ``mask`` pixels filled from around them (OpenCV's Telea inpainting)."""
    scale = min(1.0, INPAINT_EYE_PX / eye)
    if scale >= 1.0:
        return cv2.inpaint(np.ascontiguousarray(part), mask, max(0.06 * eye, 2.0),
                           cv2.INPAINT_TELEA)
    h, w = mask.shape
    size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
    small = cv2.resize(part, size, interpolation=cv2.INTER_AREA)
    small_mask = (cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
                  > 0).astype(np.uint8)
    fill = cv2.inpaint(small, small_mask, max(0.06 * eye * scale, 2.0), cv2.INPAINT_TELEA)
    fill = cv2.resize(fill, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.where(mask[..., None] > 0, fill, part)


def hide_teeth(image: np.ndarray, points: np.ndarray, eye: float, amount: float) -> np.ndarray:
    """Closed lips over visible teeth, for a target whose mouth should be closed: a
    photographed grin's teeth are the strongest smile cue and no landmark warp removes them.
    Teeth: pixels inside the lips much lighter and less coloured than the lips around them;
    the dark gaps beside them go too. They are filled from the lips around them (inpainting
    carries the upper lip's colour down and the lower lip's up, where one flat colour read as
    a grey moustache), and a soft seam is drawn where the moved lips meet."""
    if amount <= 0:
        return image
    shape = image.shape[:2]
    mouth = polygon_mask(shape, [points[list(LIPS_OUTER), :2]], 0.0) > 0.5
    if mouth.sum() < 12:
        return image
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lum, chroma = lab[..., 0], np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    lip_l, lip_c = float(np.median(lum[mouth])), float(np.median(chroma[mouth]))
    teeth = mouth & (lum > lip_l + 18) & (chroma < 0.75 * lip_c + 4)
    if teeth.sum() < 4:
        return image
    grow = max(int(round(0.03 * eye)), 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    near = cv2.dilate(teeth.astype(np.uint8), disc, iterations=2).astype(bool)
    gaps = mouth & near & (lum < lip_l - 25)
    hidden = cv2.dilate((teeth | gaps).astype(np.uint8), disc) & mouth.astype(np.uint8)
    # only the mouth's neighbourhood is worked on (inpainting a whole photo is slow)
    ys, xs = np.nonzero(mouth)
    pad = int(np.ceil(0.3 * eye)) + 2
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, shape[1])
    part, mask = image[y0:y1, x0:x1], hidden[y0:y1, x0:x1]
    filled = _inpaint(part, mask, eye).astype(np.float32)
    # the lips' seam: where the moved inner lips meet, a little darker, as closed lips show it
    seam = (points[list(UPPER_INNER), :2] + points[list(LOWER_INNER), :2]) / 2 - (x0, y0)
    line = _lines(mask.shape, [seam], 0.02 * eye, 0.015 * eye)
    filled *= 1.0 - 0.3 * (line / max(float(line.max()), 1e-6))[..., None]
    # a soft edge that still covers the teeth: blurred from one step further out
    cover = cv2.dilate(mask, disc).astype(np.float32)
    alpha = min(amount, 1.0) * np.clip(
        cv2.GaussianBlur(cover, (0, 0), max(0.015 * eye, 0.6)) * 1.5, 0.0, 1.0)
    out = image.copy()
    blend = part.astype(np.float32) * (1 - alpha[..., None]) + filled * alpha[..., None]
    out[y0:y1, x0:x1] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    return out
