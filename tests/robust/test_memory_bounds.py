"""Bounded memory for large accepted images: banded tiling and finishing, the working size, and
JPEGs too short for the pixels their header declares (peak RSS figures: bench/bench_memory.py)."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moodshift.errors import InputFileError, UserError
from moodshift.imageio import load_image
from moodshift.style import bands, color, working_side
from moodshift.style.color import Grade
from moodshift.style.engines import fast
from moodshift.stylize import WORK_PIXELS, StyleRequest


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is patched to claim width x height."""
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8)).save(
        buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_jpeg_too_short_for_its_declared_size_is_refused_as_truncated(tmp_path: Path) -> None:
    path = tmp_path / "claims7000.jpg"
    path.write_bytes(_jpeg_declaring(7000, 7000))
    with pytest.raises(InputFileError, match="truncated or corrupt"):
        load_image(path)


@pytest.mark.parametrize("kwargs", [{"quality": 1, "optimize": True},
                                    {"quality": 1, "progressive": True, "optimize": True},
                                    {"quality": 90, "subsampling": 0}])
def test_flat_but_complete_jpegs_still_load(tmp_path: Path, kwargs) -> None:
    path = tmp_path / "flat.jpg"
    Image.new("L", (2400, 1600), 0).save(path, "JPEG", **kwargs)  # ~2 bits per 8x8 block
    assert load_image(path).shape == (1600, 2400, 3)


def _reference_tiles(image: np.ndarray, fn, tile: int) -> np.ndarray:
    """The plain whole-image accumulation the banded tiler must reproduce exactly."""
    padded = fast._pad4(image)
    h, w = image.shape[:2]
    ph, pw = padded.shape[:2]
    overlap = min(fast.OVERLAP, tile // 4)
    acc = np.zeros((ph, pw, 3), np.float32)
    wgt = np.zeros((ph, pw, 1), np.float32)
    for y in fast._starts(ph, tile, overlap):
        for x in fast._starts(pw, tile, overlap):
            crop = padded[y:y + tile, x:x + tile].astype(np.float32) / 255.0
            ww = (fast._ramp(crop.shape[0], overlap)[:, None, None]
                  * fast._ramp(crop.shape[1], overlap)[None, :, None])
            acc[y:y + tile, x:x + tile] += fn(crop) * ww
            wgt[y:y + tile, x:x + tile] += ww
    return (np.clip(acc[:h, :w] / wgt[:h, :w], 0, 1) * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize("shape, tile", [((700, 901), 256), ((130, 2000), 64), ((5, 900), 64),
                                         ((1500, 700), 256), ((3000, 7), 64)])
def test_banded_tiling_matches_whole_image_accumulation(shape, tile) -> None:
    image = np.random.default_rng(1).integers(0, 256, shape + (3,), np.uint8)

    def fn(x):  # depends on the whole tile, like instance normalisation
        return x * 0.5 + x.mean() * 0.5

    got = fast.run_tiled(image, fn, 1, tile, None)
    want = _reference_tiles(image, fn, tile)
    # wide images are banded transposed: sums in another order may round one level apart
    diff = np.abs(got.astype(int) - want)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.001


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("anchored", [False, True])
@pytest.mark.parametrize("strength", [0.4, 1.0])
def test_banded_finishing_matches_the_whole_image_path(monkeypatch, keep, anchored,
                                                       strength) -> None:
    rng = np.random.default_rng(2)
    content = rng.integers(0, 256, (300, 410, 3), np.uint8)
    styled = rng.integers(0, 256, (300, 410, 3), np.uint8)
    grade = Grade(1.1, 0.9, 1.2, 0.3)
    monkeypatch.setattr(bands, "STATS_SOURCE_SIDE", 10**6)  # exact statistics
    monkeypatch.setattr(bands, "BAND_PIXELS", 20_000)       # many bands
    if keep:
        lum = Grade(brightness=grade.brightness, contrast=grade.contrast)
        graded = color.apply_grade(styled, lum, content if anchored else None)
        want = color.blend(content, color.preserve_color(content, graded), strength)
    else:
        want = color.finish(content, styled, grade, strength, anchored)
    got = bands.finish_in_bands(content, styled, grade, strength, anchored, keep)
    np.testing.assert_array_equal(got, want)


def test_banded_finishing_allocates_little_beyond_its_output() -> None:
    h, w = 3000, 2000  # 6 MP: the whole-image path holds several 72 MB float copies
    content = np.full((h, w, 3), 90, np.uint8)
    styled = np.full((h, w, 3), 160, np.uint8)
    tracemalloc.start()
    try:
        bands.finish_in_bands(content, styled, Grade(0.9, 1.1, 0.8, -0.2), 0.7, True, False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the uint8 output (18 MB) plus a few float32 bands of BAND_PIXELS (24 MB each)
    assert peak < content.nbytes + 8 * 12 * bands.BAND_PIXELS, peak / 1e6


def test_working_side_keeps_the_network_within_max_pixels() -> None:
    assert working_side((1000, 800), None) is None
    assert working_side((1000, 800), 800_000) is None
    side = working_side((7000, 7000), WORK_PIXELS)
    assert side is not None and side * side <= WORK_PIXELS
    side = working_side((3, 100_000), 4096)
    assert side == max(fast.MIN_SIDE, side)


def test_max_pixels_styles_at_the_working_size_and_keeps_the_photo_size(monkeypatch) -> None:
    seen: list[tuple[int, int]] = []
    real = fast.run_tiled

    def spy(image, fn, max_full, tile, work_side):
        def wrapped(x):
            seen.append(x.shape[:2])
            return fn(x)
        return real(image, wrapped, max_full, tile, work_side)

    monkeypatch.setattr(fast, "run_tiled", spy)
    image = np.random.default_rng(3).integers(0, 256, (300, 400, 3), np.uint8)
    from moodshift.style import stylize_image
    out = stylize_image(image, "happy", strength=1.0, max_pixels=10_000)
    assert out.shape == image.shape
    assert seen and all(h * w <= 12_000 for h, w in seen)  # padded to a multiple of 4


@pytest.mark.parametrize("kwargs, words", [({"max_pixels": 10}, "max-pixels 10"),
                                           ({"max_pixels": 2.5e7}, "whole number"),
                                           ({"strength": 1.5}, "strength 1.5")])
def test_style_request_validates_itself(kwargs, words) -> None:
    with pytest.raises(UserError, match=words):
        StyleRequest(emotion="sad", **kwargs).check()


def test_stylize_help_states_the_default_working_size(capsys) -> None:
    from moodshift.cli import main

    with pytest.raises(SystemExit):
        main(["stylize", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    from moodshift.cli.stylize import WORK_PIXELS as HELP_DEFAULT

    assert HELP_DEFAULT == WORK_PIXELS
    assert f"default {WORK_PIXELS}" in text and "missing parent folders are created" in text
