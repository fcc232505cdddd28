"""Colour preservation, grading and the strength blend of a large image, band by band.

``stylize_image``'s finishing steps are per-pixel except for three whole-image statistics
(mean and SD of L*, mean chroma). For images above BAND_PIXELS those statistics come from an
area-downsampled copy (at most STATS_SOURCE_SIDE px; the statistics themselves are taken at 256
px) and the pixels are processed in bands of about BAND_PIXELS, so the float copies a 50 MP
image would need (12 bytes per pixel each, several at once) never exist at full size. Smaller
images keep the whole-image path in style/__init__.py.
"""

from __future__ import annotations

import cv2
import numpy as np

from moodshift.style.color import (
    Grade,
    Stats,
    blend_lab,
    from_lab,
    grade_lab,
    grade_statistics,
    to_lab,
)
from moodshift.style.color import preserve_color as keep_colour

BAND_PIXELS = 2_000_000
STATS_SOURCE_SIDE = 1024


def lab_stats(image: np.ndarray) -> Stats:
    """Mean L*, SD of L*, mean chroma of an RGB uint8 image, from a small copy."""
    h, w = image.shape[:2]
    scale = STATS_SOURCE_SIDE / max(h, w)
    if scale < 1.0:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
    return grade_statistics(to_lab(image))


def finish_in_bands(content: np.ndarray, stylised: np.ndarray, grade: Grade, strength: float,
                    anchored: bool, keep: bool) -> np.ndarray:
    """What style/__init__.py's finishing does to (content, stylised), in bands of rows."""
    h, w = content.shape[:2]
    ref = lab_stats(content) if anchored else None
    if keep:  # only the luminance part of the grade applies, then colour and strength
        grade = Grade(brightness=grade.brightness, contrast=grade.contrast)
    stats = lab_stats(stylised)
    rows = max(1, BAND_PIXELS // w)
    out = np.empty_like(content)
    for y in range(0, h, rows):
        c, s = content[y:y + rows], stylised[y:y + rows]
        if keep:
            graded = s if grade.is_identity() and ref is None else from_lab(
                grade_lab(to_lab(s), grade, stats=stats, reference_stats=ref))
            s = keep_colour(c, graded)
            if strength >= 1.0:
                out[y:y + rows] = s
                continue
            out[y:y + rows] = from_lab(blend_lab(to_lab(c), to_lab(s), strength))
        else:
            lab = grade_lab(to_lab(s), grade, stats=stats, reference_stats=ref)
            out[y:y + rows] = from_lab(lab if strength >= 1.0
                                       else blend_lab(to_lab(c), lab, strength))
    return out
