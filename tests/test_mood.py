"""Colour-affect mood: range, determinism, monotone responses, speed."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from moodshift.emotions import VAD
from moodshift.mood import measure_mood, measure_mood_details


def lab_patch(lightness: float, chroma: float, hue: float, size: int = 64) -> np.ndarray:
    """A uniform RGB patch with the given CIELAB lightness, chroma and hue angle (degrees)."""
    h = np.radians(hue)
    lab = np.array([[[lightness, chroma * np.cos(h), chroma * np.sin(h)]]], np.float32)
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)[0, 0]
    return np.tile((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8), (size, size, 1))


def test_range_and_type() -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (50, 70, 3), dtype=np.uint8),
              np.zeros((10, 10, 3), np.uint8), np.full((10, 10, 3), 255, np.uint8),
              lab_patch(60, 80, 30), lab_patch(20, 0, 0)]
    for img in images:
        vad = measure_mood(img)
        assert isinstance(vad, VAD)
        assert all(-1.0 <= v <= 1.0 for v in vad.as_tuple())


def test_deterministic_and_greyscale_input() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (300, 200, 3), dtype=np.uint8)
    assert measure_mood(img) == measure_mood(img.copy())
    grey = rng.integers(0, 256, (40, 40), dtype=np.uint8)
    assert measure_mood(grey) == measure_mood(np.repeat(grey[..., None], 3, axis=2))
    with pytest.raises(ValueError):
        measure_mood(np.zeros((4, 4, 5), np.uint8))


def test_dark_bluegrey_less_pleasant_than_bright_warm() -> None:
    gloomy = lab_patch(25, 8, 250)
    sunny = lab_patch(75, 55, 70)
    assert measure_mood(gloomy).valence < measure_mood(sunny).valence - 0.5


def test_brightness_raises_valence_and_lowers_dominance() -> None:
    moods = [measure_mood(lab_patch(light, 15, 40)) for light in (20, 35, 50, 65, 80)]
    valences = [m.valence for m in moods]
    dominances = [m.dominance for m in moods]
    assert valences == sorted(valences) and valences[-1] > valences[0]
    assert dominances == sorted(dominances, reverse=True)


def test_saturation_raises_arousal_and_valence() -> None:
    moods = [measure_mood(lab_patch(50, chroma, 30)) for chroma in (0, 15, 30, 45)]
    assert [m.arousal for m in moods] == sorted(m.arousal for m in moods)
    assert [m.valence for m in moods] == sorted(m.valence for m in moods)


def test_hue_blue_green_more_pleasant_than_yellow() -> None:
    yellow = measure_mood(lab_patch(60, 40, 95)).valence
    for hue in (160, 200, 245):
        assert measure_mood(lab_patch(60, 40, hue)).valence > yellow


def test_contrast_raises_arousal() -> None:
    flat = np.full((64, 64, 3), 118, np.uint8)
    checks = np.kron((np.indices((8, 8)).sum(0) % 2), np.ones((8, 8))).astype(bool)
    contrasty = np.where(checks[..., None], 200, 40).astype(np.uint8).repeat(3, axis=2)
    reading = measure_mood_details(contrasty)
    assert reading.contrast > measure_mood_details(flat).contrast
    assert measure_mood(contrasty).arousal > measure_mood(flat).arousal


def test_resolution_barely_matters() -> None:
    rng = np.random.default_rng(2)
    small = cv2.resize(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), (128, 128),
                       interpolation=cv2.INTER_CUBIC)
    large = cv2.resize(small, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    a, b = measure_mood(small).as_tuple(), measure_mood(large).as_tuple()
    assert np.allclose(a, b, atol=0.05)


def test_fast_on_1024() -> None:
    img = np.random.default_rng(3).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    measure_mood(img)
    best = min(_timed(measure_mood, img) for _ in range(5))
    assert best < 0.020


def test_details_json() -> None:
    data = measure_mood_details(lab_patch(50, 20, 100)).to_json()
    assert {"valence", "arousal", "dominance", "lightness", "chroma", "contrast",
            "colourfulness", "hue_pleasantness"} <= set(data)


def _timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start
