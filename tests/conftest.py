"""Shared fixtures: small images generated on the fly, never ../shared."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

if TYPE_CHECKING:
    from moodshift.text import TextReading


def portrait_like(width: int = 160, height: int = 200, seed: int = 0) -> np.ndarray:
    """A portrait-ish picture: a skin-toned oval with eyes and mouth on a muted background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.empty((height, width, 3), dtype=np.float64)
    img[:] = (110, 120, 115)
    img += rng.normal(0, 6, img.shape)
    cx, cy, rx, ry = width / 2, height * 0.45, width * 0.3, height * 0.32
    face = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
    img[face] = (205, 160, 130)
    for ex in (cx - rx * 0.4, cx + rx * 0.4):
        eye = ((xx - ex) / (rx * 0.12)) ** 2 + ((yy - (cy - ry * 0.2)) / (ry * 0.07)) ** 2 <= 1
        img[eye] = (40, 30, 30)
    mouth = (np.abs(xx - cx) < rx * 0.35) & (np.abs(yy - (cy + ry * 0.45)) < ry * 0.05)
    img[mouth] = (150, 60, 60)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def portrait() -> np.ndarray:
    return portrait_like()


@pytest.fixture
def portrait_file(tmp_path: Path, portrait: np.ndarray) -> Path:
    path = tmp_path / "portrait.png"
    Image.fromarray(portrait).save(path)
    return path


def stripes(side: int = 96) -> np.ndarray:
    """A bold, colourful style picture (diagonal stripes)."""
    yy, xx = np.mgrid[0:side, 0:side]
    band = ((xx + yy) // 8) % 3
    palette = np.array([[220, 40, 40], [30, 60, 200], [240, 220, 60]], np.uint8)
    return palette[band]


@pytest.fixture(scope="module")
def content_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    (folder / "nested").mkdir()
    for i in range(3):
        Image.fromarray(portrait_like(40, 48, seed=i)).save(folder / f"face{i}.png")
    Image.fromarray(portrait_like(36, 36, seed=9)).save(folder / "nested" / "face9.jpg")
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    return folder


@pytest.fixture(scope="module")
def style_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("style") / "stripes.png"
    Image.fromarray(stripes()).save(path)
    return path


@pytest.fixture(scope="module")
def embedded() -> dict[str, TextReading]:
    """The sentence model's readings of text_data's fixed sentences: loading it takes ~10 s,
    so each module reads them all in one batched call."""
    from text_data import FIXED, NO_EMOTION

    from moodshift.text import read_text
    from moodshift.text.embedding import embedding_available

    if not embedding_available():
        pytest.skip("sentence model not installed")
    texts = [t for t, _ in FIXED] + [NO_EMOTION]
    return {r.text: r for r in read_text(texts, backend="embedding")}
