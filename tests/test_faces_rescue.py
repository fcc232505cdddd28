"""The padded second look for faces: runs only when the first finds nothing; boxes map back."""

from __future__ import annotations

import numpy as np

from moodshift.faces.base import Detection
from moodshift.faces.rescue import PaddedRetryDetector


class SizeLimitedDetector:
    """Finds a 'face' (the bright square) only when it is under 40 % of the image side."""

    name = "toy"

    def detect(self, image: np.ndarray) -> list[Detection]:
        ys, xs = np.nonzero(image[..., 0] > 200)
        if not len(ys):
            return []
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        if max(x1 - x0, y1 - y0) > 0.4 * max(image.shape[:2]):
            return []
        return [Detection((int(x0), int(y0), int(x1 - x0), int(y1 - y0)), 0.9)]


def test_a_face_filling_the_frame_is_found_on_the_padded_canvas() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[20:80, 25:75] = 255  # 60 % of the side: the plain pass misses it
    assert SizeLimitedDetector().detect(image) == []
    [face] = PaddedRetryDetector(SizeLimitedDetector()).detect(image)
    # edge replication stretches a face touching no edge by nothing: the box maps back exactly
    assert face.box == (25, 20, 50, 60) and face.source == "toy+padded"


def test_the_second_look_is_skipped_when_the_first_finds_a_face() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 40:60] = 255
    [face] = PaddedRetryDetector(SizeLimitedDetector()).detect(image)
    assert face.box == (40, 40, 20, 20) and face.source == "toy"


def test_no_face_stays_no_face() -> None:
    assert PaddedRetryDetector(SizeLimitedDetector()).detect(np.zeros((50, 80, 3), np.uint8)) == []


def test_a_huge_or_extremely_long_image_gets_no_padded_copy() -> None:
    class Counting(SizeLimitedDetector):
        calls = 0

        def detect(self, image: np.ndarray) -> list[Detection]:
            Counting.calls += 1
            return []

    detector = PaddedRetryDetector(Counting())
    assert detector.detect(np.zeros((3, 5000, 3), np.uint8)) == []
    assert detector.detect(np.zeros((1500, 1500, 3), np.uint8)) == []
    assert Counting.calls == 2  # the first look only, each time
