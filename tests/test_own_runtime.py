"""The shipped expression model through onnxruntime gives the PyTorch model's probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from moodshift.expression import own_runtime
from moodshift.expression.own import MoodshiftExpression
from moodshift.models.runtime import ONNX_DIR, ONNX_MANIFEST


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path))
    return tmp_path


def test_onnx_export_matches_torch_and_needs_no_reexport(private_cache: Path, portrait) -> None:
    logs: list[str] = []
    assert own_runtime.export_shipped(private_cache, log=logs.append) is not None
    assert own_runtime.export_shipped(private_cache, log=logs.append) is None  # already current
    onnx_model = own_runtime.load_float_onnx()
    assert onnx_model is not None
    torch_model = MoodshiftExpression.shipped(precision="fp32")
    rng = np.random.default_rng(0)
    boxes = [(30, 20, 100, 130), (0, 0, portrait.shape[1], portrait.shape[0]), (100, 150, 80, 80)]
    noisy = np.clip(portrait + rng.normal(0, 20, portrait.shape), 0, 255).astype(np.uint8)
    for image in (portrait, noisy):
        p_onnx = onnx_model.predict(image, boxes)
        p_torch = torch_model.predict(image, boxes)
        assert p_onnx.shape == (3, 7)
        np.testing.assert_allclose(p_onnx.sum(axis=1), 1.0, atol=1e-6)
        np.testing.assert_allclose(p_onnx, p_torch, atol=1e-4)


def test_export_from_other_weights_is_not_used(private_cache: Path) -> None:
    own_runtime.export_shipped(private_cache, log=lambda _: None)
    manifest = private_cache / ONNX_DIR / ONNX_MANIFEST
    records = json.loads(manifest.read_text())
    records[own_runtime.NET_NAME]["source_sha256"] = "0" * 64
    manifest.write_text(json.dumps(records))
    assert own_runtime.load_float_onnx() is None


def test_shipped_int8_model_matches_its_checksum_and_the_float_model(portrait) -> None:
    from moodshift.models.store import sha256_file

    path = own_runtime.shipped_int8()
    assert sha256_file(path) == own_runtime.SHIPPED_INT8_SHA256
    int8 = own_runtime.load_shipped_onnx()
    assert int8 is not None and int8.net.path == path.resolve()
    torch_model = MoodshiftExpression.shipped(precision="fp32")
    h, w = portrait.shape[:2]
    boxes = [(30, 20, 100, 130), (0, 0, w, h), (100, 150, 80, 80)]
    p_int8, p_float = int8.predict(portrait, boxes), torch_model.predict(portrait, boxes)
    np.testing.assert_allclose(p_int8.sum(axis=1), 1.0, atol=1e-6)
    assert (p_int8.argmax(axis=1) == p_float.argmax(axis=1)).all()
    assert np.abs(p_int8 - p_float).max() < 0.1


def test_int8_model_with_a_wrong_checksum_is_not_used(private_cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(own_runtime, "SHIPPED_INT8_SHA256", "0" * 64)
    assert own_runtime.load_shipped_onnx() is None  # no float export in the empty cache either
    own_runtime.export_shipped(private_cache, log=lambda _: None)
    model = own_runtime.load_shipped_onnx()
    assert model is not None and model.net.path.name == "moodshift-expression.onnx"
