"""An opened mouth's interior: teeth move with their lip, unstretched; the gap is dark cavity."""

from __future__ import annotations

import numpy as np

from moodshift.style.editing.mouth import LOWER_INNER, UPPER_INNER, lip_opening, open_mouth

SKIN = np.array([200, 150, 130], np.uint8)
EYE = 80.0


def mouth_points(upper_y: float, lower_y: float) -> np.ndarray:
    """A 468-point mesh whose inner lips run from (60, 100) to (140, 100), the upper one at
    ``upper_y`` and the lower at ``lower_y`` in the middle, curving to the corners."""
    points = np.zeros((468, 3), np.float32)
    for contour, mid_y in ((UPPER_INNER, upper_y), (LOWER_INNER, lower_y)):
        for k, idx in enumerate(contour):
            s = k / (len(contour) - 1)
            x = 60 + 80 * s
            points[idx, :2] = (x, 100 + (mid_y - 100) * np.sin(np.pi * s))
    return points


def photo() -> np.ndarray:
    """Skin, with a slightly open mouth: upper teeth (white) under the upper lip at 96, dark
    below them down to the lower lip at 104."""
    img = np.tile(SKIN, (200, 200, 1))
    img[96:100, 70:131] = 240
    img[100:104, 70:131] = 40
    return img


def test_a_mouth_that_does_not_open_further_is_left_as_warped():
    before = mouth_points(96, 104)
    img = photo()
    out = open_mouth(img, img, before, mouth_points(97, 103), EYE)
    assert out is img


def test_teeth_follow_the_upper_lip_unstretched_and_the_gap_is_dark():
    before, after = mouth_points(96, 104), mouth_points(86, 122)
    assert lip_opening(after, EYE) - lip_opening(before, EYE) > 0.2
    img = photo()
    out = open_mouth(img, img.copy(), before, after, EYE)
    column = out[:, 100].astype(int).sum(1)
    # the teeth band now starts just under the moved upper lip, as tall as it was
    assert column[86:90].min() > 500 and column[85] < 500
    # past the band's height the stretched interior would still be white: now it is cavity
    assert column[96] < 300 and column[104] < 300
    # darkest in the cavity, well under the skin
    assert column[95:115].min() < 0.4 * int(SKIN.astype(int).sum())


def test_only_the_inside_of_the_lips_changes():
    before, after = mouth_points(96, 104), mouth_points(86, 122)
    img = photo()
    out = open_mouth(img, img.copy(), before, after, EYE)
    changed = np.abs(out.astype(int) - img).sum(-1) > 6
    ys, xs = np.nonzero(changed)
    assert ys.min() >= 84 and ys.max() <= 124
    assert xs.min() >= 58 and xs.max() <= 142
    assert not changed[:80].any() and not changed[130:].any()
