"""Per-region shading that geometry alone cannot show: the brow furrows of AU4, the nasolabial
folds of AU6+12 / AU9+10, and teeth hidden behind lips that should stay closed.

All of it is drawn in the face's own moved-landmark positions, feathered, and applied as
multiplicative shading (folds, furrows) or alpha-blended paint (teeth), so it follows the photo's
lighting. The inside of a mouth the edit opened is moodshift.style.editing.mouth's.
"""

from __future__ import annotations

import cv2
import numpy as np

from moodshift.faces.masks import LIPS_OUTER, polygon_mask


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


def hide_teeth(image: np.ndarray, points: np.ndarray, eye: float, amount: float) -> np.ndarray:
    """Paint over visible teeth with the lips' own colour, for a target
    whose mouth should be closed: a photographed grin's teeth are the strongest smile cue and
    no landmark warp removes them. Teeth: pixels inside the lips that are much lighter and less
    coloured than the lips around them."""
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
    grow = max(int(round(0.02 * eye)), 1)
    mask = cv2.dilate(teeth.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    mask &= mouth.astype(np.uint8)
    lips = mouth & ~mask.astype(bool)
    lips &= lum >= np.median(lum[lips]) if lips.any() else lips  # lip tissue, not the dark gap
    colour = np.median(image[lips], axis=0) if lips.sum() >= 4 else np.array([150.0, 90, 85])
    # lips' own colour, a little darker toward the middle where the lips meet
    depth = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(0.02 * eye, 0.7))
    depth /= max(float(depth.max()), 1e-6)
    filled = colour[None, None, :].astype(np.float32) * (1.0 - 0.15 * depth[..., None])
    # a blend, never past the lips' colour (an edit stronger than 1 asks no more than 1 here)
    alpha = min(amount, 1.0) * cv2.GaussianBlur(mask.astype(np.float32), (0, 0),
                                                max(0.01 * eye, 0.5))
    out = image.astype(np.float32) * (1 - alpha[..., None]) + filled * alpha[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
