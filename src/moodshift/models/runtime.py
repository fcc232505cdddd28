"""Run the converted networks with onnxruntime, without importing torch.

``moodshift models pull`` exports each network in NETS to ``<cache>/onnx/<name>.onnx``
(moodshift.models.onnx_export) and records its sha256 in ``<cache>/onnx/onnx.json``. At inference
``load_net`` returns the ONNX net when that export is there, else the PyTorch port (torch is
imported only then). Both take and return float32 numpy arrays: the network part only; the
framing before and the decoding after are numpy code in the model classes.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from moodshift.errors import ModelMissingError, UserError
from moodshift.models.store import cache_dir, load_tensors, read_manifest, sha256_file

ONNX_DIR = "onnx"
ONNX_MANIFEST = "onnx.json"
INTRA_OP_THREADS = 2
BACKENDS = ("auto", "onnx", "torch")
Tensors = dict[str, np.ndarray]


@dataclass(frozen=True)
class NetSpec:
    """How to build a network's PyTorch port and what it takes (for the ONNX export)."""

    builder: str                        # "module:function", tensors -> torch callable
    input_shape: tuple[int, ...]        # the example NCHW input, batch 1
    dynamic_batch: bool
    outputs: tuple[str, ...]
    batched_outputs: tuple[str, ...] = ()   # outputs with a batch axis (default: all)


NETS: dict[str, NetSpec] = {
    "faceapi-ssd": NetSpec("moodshift.faces.ssd_net:build", (1, 3, 512, 512), False,
                           ("box_encodings", "logits", "anchors")),
    "faceapi-tiny": NetSpec("moodshift.faces.tiny_net:build", (1, 3, 416, 416), False,
                            ("predictions",)),
    "faceapi-expression": NetSpec("moodshift.expression.faceapi_net:build", (1, 3, 112, 112),
                                  True, ("logits",)),
    "faceapi-agegender": NetSpec("moodshift.faces.agegender_net:build", (1, 3, 112, 112), True,
                                 ("age", "gender_logits")),
    "faceapi-recognition": NetSpec("moodshift.faces.recognition_net:build", (1, 3, 150, 150),
                                   True, ("descriptor",)),
    "human-faceres": NetSpec("moodshift.faces.faceres_net:build", (1, 3, 224, 224), True,
                             ("male", "age", "descriptor")),
    "moodshift-expression": NetSpec("moodshift.expression.own_runtime:build", (1, 1, 44, 44),
                                    True, ("logits",)),
    "efficientnet-lite0": NetSpec("moodshift.mood.backbone:build", (1, 3, 224, 224), True,
                                  ("features", "logits")),
    "efficientnet-lite1": NetSpec("moodshift.mood.backbone:build_lite1", (1, 3, 240, 240), True,
                                  ("features", "logits")),
    "efficientnet-lite2": NetSpec("moodshift.mood.backbone:build_lite2", (1, 3, 260, 260), True,
                                  ("features", "logits")),
}


def onnx_folder(folder: Path | None = None) -> Path:
    return (folder or cache_dir()) / ONNX_DIR


def read_onnx_manifest(folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """``{name: {file, sha256, size, source_sha256}}`` from ``<cache>/onnx/onnx.json``."""
    path = onnx_folder(folder) / ONNX_MANIFEST
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: ONNX manifest is unreadable ({exc}); "
                        "run `moodshift models pull --force`") from None


@lru_cache(maxsize=None)
def verified_once(path: str, size: int, mtime_ns: int, expected: str) -> bool:
    """Hash a file once per process (per size and modification time)."""
    return sha256_file(path) == expected


def onnx_path(name: str, folder: Path | None = None) -> Path | None:
    """The verified ONNX export of ``name``, or None when there is none (or it was exported from
    weights that have since been replaced). A file whose sha256 differs is a UserError."""
    record = read_onnx_manifest(folder).get(name)
    if record is None:
        return None
    path = onnx_folder(folder) / str(record["file"])
    if not path.exists():
        return None
    source = read_manifest(folder).get(name)
    if source is not None and source.sha256 != record.get("source_sha256"):
        return None   # stale: the torch port reads the current weights
    stat = path.stat()
    if not verified_once(str(path), stat.st_size, stat.st_mtime_ns, str(record["sha256"])):
        raise UserError(f"{path}: checksum mismatch; run `moodshift models pull --force`")
    return path


def session_options() -> Any:
    """2 intra-op threads, no spin-waiting between runs."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = INTRA_OP_THREADS
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


def new_session(path: str | Path) -> Any:
    """An onnxruntime CPU session (session_options), optimising the graph itself."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), sess_options=session_options(),
                                providers=["CPUExecutionProvider"])


@lru_cache(maxsize=None)
def _session(path: str, mtime_ns: int) -> Any:
    from moodshift.models.ort_cache import cached_session

    return cached_session(Path(path), session_options)


class OnnxNet:
    """An ONNX network; one onnxruntime session per file (and version of it) per process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self.session = _session(str(self.path), self.path.stat().st_mtime_ns)
        self.inputs = [i.name for i in self.session.get_inputs()]

    def __call__(self, *arrays: np.ndarray) -> list[np.ndarray]:
        if len(arrays) != len(self.inputs):
            raise ValueError(f"{self.path.name} takes {len(self.inputs)} inputs, "
                             f"got {len(arrays)}")
        feeds = {n: np.ascontiguousarray(a, dtype=np.float32) for n, a in zip(self.inputs, arrays)}
        return list(self.session.run(None, feeds))


class TorchNet:
    """A PyTorch port behind OnnxNet's interface (numpy in, list of numpy out)."""

    def __init__(self, forward: Callable[..., Any]) -> None:
        self.forward = forward

    def __call__(self, *arrays: np.ndarray) -> list[np.ndarray]:
        import torch

        with torch.inference_mode():
            out = self.forward(*(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
                                 for a in arrays))
        return [o.numpy() for o in (out if isinstance(out, (tuple, list)) else (out,))]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in x's dtype (very negative x gives exactly 0, without a warning)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def resolve(target: str) -> Callable[..., Any]:
    """The function a "module:function" name stands for. The store names the code that builds
    or checks a network (in the feature that owns it) and imports it only when called, so the
    store itself imports no feature."""
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def build_torch(name: str, tensors: Tensors | None = None) -> Callable[..., Any]:
    """The PyTorch port of ``name`` (see NETS) from tensors, by default the cached weights."""
    if tensors is None:
        tensors = load_tensors(name)
    return resolve(NETS[name].builder)(tensors)


def load_net(name: str, tensors: Tensors | None = None,
             backend: str = "auto") -> OnnxNet | TorchNet:
    """Network ``name`` for inference. backend ``auto``: the ONNX export unless tensors are given
    or there is none, then the PyTorch port; ``onnx`` / ``torch`` force one."""
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "torch" and tensors is None:
        path = onnx_path(name)
        if path is not None:
            return OnnxNet(path)
        if backend == "onnx":
            raise ModelMissingError(f"model {name!r} has no ONNX export in {onnx_folder()}; "
                                    "run `moodshift models pull --force`")
    elif backend == "onnx":
        raise UserError("explicit tensors need the torch backend")
    return TorchNet(build_torch(name, tensors))
