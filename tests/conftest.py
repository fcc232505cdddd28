"""Shared fixtures: small images generated on the fly, never ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


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
