"""The lips after the warp's moves: the opening stays inside the lips and runs evenly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from moodshift.faces.masks import LIPS_INNER, LIPS_OUTER, LOWER_INNER, UPPER_INNER
from moodshift.style.editing.lips import even_out_opening, keep_inner_inside


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """The shipped mean neutral face, eye distance 100 px."""
    from moodshift.style.editing.offsets import load_offsets

    return load_offsets().neutral * 100.0 + (300.0, 300.0)


def outside(points: np.ndarray, i: int) -> bool:
    outline = points[list(LIPS_OUTER)].astype(np.float32)
    return cv2.pointPolygonTest(outline, (float(points[i, 0]), float(points[i, 1])), False) < 0


def test_an_inner_corner_pulled_past_the_lips_comes_back_inside(face):
    moves = np.zeros_like(face)
    moves[78] = (-8.0, 20.0)           # down and out, past the outer corner (a torn corner)
    moves[95] = (0.0, 4.0)             # an ordinary move, inside: kept as it is
    assert outside(face + moves, 78)
    kept = keep_inner_inside(face, moves)
    assert not any(outside(face + kept, i) for i in LIPS_INNER)
    assert np.array_equal(np.delete(kept, 78, 0), np.delete(moves, 78, 0))
    # it goes to the outer corner's side of the mouth, not to the middle of the lips
    assert np.hypot(*(face + kept)[78] - face[61]) < np.hypot(*(face + kept)[78] - face[14])


def test_moves_that_stay_inside_are_untouched(face):
    moves = np.zeros_like(face)
    moves[list(LOWER_INNER[1:-1]), 1] = 6.0        # a small, even jaw drop
    moves[list(LIPS_OUTER[1:10]), 1] = 6.0        # the lower lip's outer edge with it
    assert np.array_equal(keep_inner_inside(face, moves), moves)


def test_closing_neighbours_close_an_opening_point_a_little_never_open_it(face):
    moves = np.zeros_like(face)
    lower = list(LOWER_INNER)
    moves[lower[1:4], 1] = [-10.0, 1.0, -10.0]      # the lower lip rises beside one that drops
    even = even_out_opening(face, moves)
    assert even[lower[2], 1] < 0 < moves[lower[2], 1]
    assert np.all(even[lower, 1] <= moves[lower, 1] + 1e-9)


def test_a_saw_toothed_opening_is_evened_out_and_never_widened(face):
    moves = np.zeros_like(face)
    lower = list(LOWER_INNER)
    # points held back behind their neighbours, as untangling left them
    moves[lower[1:-1], 1] = [10, 20, 12, 22, 14, 24, 12, 20, 10]
    even = even_out_opening(face, moves)
    down = even[lower, 1]
    assert np.all(down <= moves[lower, 1] + 1e-9)             # openings only shrink
    assert np.array_equal(even[[78, 308]], moves[[78, 308]])   # the corners stay
    # no point opens further than the mean of itself and its neighbours by more than a little
    assert np.all(down[1:-1] <= (down[:-2] + down[1:-1] + down[2:]) / 3 + 1.0)
    zigzag = np.abs(np.diff(np.sign(np.diff(moves[lower[1:-1], 1])))).sum()
    assert np.abs(np.diff(np.sign(np.diff(down[1:-1])))).sum() < zigzag
    assert np.array_equal(even[list(UPPER_INNER[1:-1])], moves[list(UPPER_INNER[1:-1])])


def test_an_even_opening_keeps_its_middle_and_closing_moves_stay(face):
    moves = np.zeros_like(face)
    moves[list(LOWER_INNER[1:-1]), 1] = 15.0
    moves[list(UPPER_INNER[1:-1]), 1] = 5.0        # the upper lip comes down: closing, kept
    even = even_out_opening(face, moves)
    assert np.allclose(even[list(UPPER_INNER)], moves[list(UPPER_INNER)])
    # the ends next to the still corners open less, the middle as much as it did
    assert np.allclose(even[list(LOWER_INNER[4:-4]), 1], 15.0)
    assert even[LOWER_INNER[1], 1] < 15.0


def test_the_editor_moves_the_lips_as_the_mends_leave_them(face, monkeypatch):
    """edit_face hands its untangled pixel moves to both mends and warps by what they return."""
    from moodshift.style.editing import expression, lips
    from moodshift.style.editing.offsets import load_offsets

    calls = []

    def spy(name, mend):
        def wrapped(points, moves):
            out = mend(points, moves)
            out[14] += (0.0, 1.5 if name == "inside" else 0.0)   # a mark to find in the result
            calls.append(name)
            return out
        return wrapped

    monkeypatch.setattr(lips, "even_out_opening", spy("even", even_out_opening))
    monkeypatch.setattr(lips, "keep_inner_inside", spy("inside", keep_inner_inside))
    points = np.zeros((468, 3))
    points[:, :2] = (face - 300.0) * 0.8 + 160.0
    image = np.full((320, 320, 3), 180, np.uint8)
    _, moved, _ = expression.edit_face(image, points, {"fear": 1.0}, 1.0, load_offsets())
    assert calls == ["even", "inside"]
    monkeypatch.setattr(lips, "keep_inner_inside", keep_inner_inside)
    _, unmarked, _ = expression.edit_face(image, points, {"fear": 1.0}, 1.0, load_offsets())
    assert np.isclose(moved[14, 1] - unmarked[14, 1], 1.5)
