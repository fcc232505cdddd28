"""onnxruntime sessions from a once-optimised graph in the cache: same outputs, self-repairing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from moodshift.models.ort_cache import cached_session, optimized_path
from moodshift.models.runtime import new_session, session_options

onnx = pytest.importorskip("onnx")


def small_net(path: Path) -> Path:
    """Conv -> BatchNorm -> Relu: a graph the optimiser fuses."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "w"),
             *(numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), n)
               for n in ("scale", "bias", "mean", "var"))]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["b"]),
             helper.make_node("Relu", ["b"], ["y"])]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 3, 16, 16])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 4, 16, 16])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)
    return path


@pytest.fixture
def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MOODSHIFT_CACHE", str(tmp_path / "cache"))
    return small_net(tmp_path / "small.onnx")


def run(session, x: np.ndarray) -> np.ndarray:
    return session.run(None, {"x": x})[0]


def test_the_optimised_graph_is_kept_and_gives_the_same_outputs(net: Path) -> None:
    x = np.random.default_rng(1).normal(size=(1, 3, 16, 16)).astype(np.float32)
    expected = run(new_session(net), x)
    first = cached_session(net, session_options)
    assert optimized_path(net).exists()
    again = cached_session(net, session_options)  # from the kept graph
    np.testing.assert_array_equal(run(first, x), expected)
    np.testing.assert_array_equal(run(again, x), expected)
    assert [p.name for p in optimized_path(net).parent.iterdir()] == [optimized_path(net).name]


def test_a_damaged_file_is_made_again(net: Path) -> None:
    cached_session(net, session_options)
    optimized_path(net).write_bytes(b"not a model")
    x = np.ones((1, 3, 16, 16), np.float32)
    np.testing.assert_array_equal(run(cached_session(net, session_options), x),
                                  run(new_session(net), x))
    assert optimized_path(net).stat().st_size > 100


def test_a_changed_source_gets_a_new_file_and_the_old_one_goes(net: Path) -> None:
    cached_session(net, session_options)
    old = optimized_path(net)
    small_net(net)  # rewritten: a new modification time
    os.utime(net, ns=(old.stat().st_mtime_ns + 10**9, old.stat().st_mtime_ns + 10**9))
    cached_session(net, session_options)
    assert optimized_path(net) != old and optimized_path(net).exists() and not old.exists()


def test_a_read_only_cache_still_gives_a_session(net: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("MOODSHIFT_CACHE", str(blocker))
    x = np.ones((1, 3, 16, 16), np.float32)
    np.testing.assert_array_equal(run(cached_session(net, session_options), x),
                                  run(new_session(net), x))
