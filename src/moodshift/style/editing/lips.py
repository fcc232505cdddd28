"""The lips' contours after the warp's moves are known: even, and the opening inside the lips.

Both act on the moves in pixels after ``warp.untangle``, which holds back the points whose skin
would fold, one point at a time: along a lip that left some points of the opening behind their
neighbours (a saw-toothed lip edge that the re-drawn open mouth then followed), and an outer
corner held back while the inner corner beside it went on, out of the lips. The editor runs
``untangle`` once more after them (on the tuning portraits the mends folded about 0.6 thin
triangles per edit; after the second pass none, and no inner lip point is left outside).
"""

from __future__ import annotations

import cv2
import numpy as np

from moodshift.faces.masks import LIPS_INNER, LIPS_OUTER, LOWER_INNER, UPPER_INNER

# the two inner lip corners (where the contours meet), and for each the outer corner beside it
# and that corner's two outer neighbours
LEFT_END, RIGHT_END = UPPER_INNER[0], UPPER_INNER[-1]
CORNERS = {LEFT_END: (61, 146, 185), RIGHT_END: (291, 375, 409)}
INSIDE_STEPS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
EVEN_PASSES = 3


def even_out_opening(points: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """Moves whose opening part (away from the other lip, across the mouth's corner-to-corner
    axis) runs evenly along each inner lip: a point that opens further than the mean of itself
    and its two neighbours opens only that far (EVEN_PASSES times), which is below zero (a
    little closing) where its neighbours close. The corners stay. Points move only toward the
    other lip, but near the corners that can fold a thin triangle between the two lips and the
    skin beside them, so the editor untangles once more after the mends."""
    axis = points[RIGHT_END] - points[LEFT_END]
    down = np.array([-axis[1], axis[0]]) / max(float(np.hypot(*axis)), 1e-9)
    out = moves.copy()
    for contour, direction in ((LOWER_INNER, down), (UPPER_INNER, -down)):
        idx = list(contour)
        opening = out[idx] @ direction
        for _ in range(EVEN_PASSES):
            mean = (opening[:-2] + opening[1:-1] + opening[2:]) / 3
            inner = opening[1:-1]
            opening[1:-1] = np.where((inner > 0) & (inner > mean), mean, inner)
        out[idx] += np.outer(opening - out[idx] @ direction, direction)
    return out


def keep_inner_inside(points: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """Moves that keep the inner lip contour inside the moved outer one. The learned offsets
    and the prototypes pull the inner corners (sad, fear; a smile's sideways) further than the
    outer ones; past the outer corner an inner one drags the mouth's opening into the skin, and
    a re-drawn open mouth showed it as a dark wedge from the corner to the jaw. A moved inner
    corner outside the outer contour goes inside the corner of the outer lips (half on the
    outer corner, a quarter on each of its neighbours); any other inner point, or a corner
    still outside, is drawn toward the middle of the outer lips until it is inside (at the
    latest there)."""
    moved = points + moves
    outer = moved[list(LIPS_OUTER)]
    outline, centre = outer.astype(np.float32), outer.mean(0)
    out = moves.copy()
    for i in LIPS_INNER:
        if _inside(outline, moved[i]):
            continue
        start = moved[i]
        if i in CORNERS:
            corner, lower, upper = CORNERS[i]
            start = 0.5 * moved[corner] + 0.25 * (moved[lower] + moved[upper])
        for share in INSIDE_STEPS:
            xy = start + share * (centre - start)
            if _inside(outline, xy):
                break
        out[i] = xy - points[i]
    return out


def _inside(polygon: np.ndarray, point: np.ndarray) -> bool:
    return cv2.pointPolygonTest(polygon, (float(point[0]), float(point[1])), False) >= 0
