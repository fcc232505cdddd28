"""Export the PyTorch ports to ONNX, so inference runs on onnxruntime without importing torch.

``export_module`` exports any torch module (or plain callable of tensors), checks the ONNX file
against torch on a random input and only then moves it into place. ``export_net`` does that for a
network registered in moodshift.models.runtime.NETS and records the file's sha256 (and that of
the weights it came from) in ``<cache>/onnx/onnx.json``, which ``runtime.onnx_path`` verifies.
``export_faceapi_onnx`` runs at the end of face-api's ``pull``. This is the only module that
imports torch for the face-api networks at pull time; inference never imports it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from moodshift.errors import UserError
from moodshift.models.runtime import (
    NETS,
    ONNX_MANIFEST,
    Tensors,
    build_torch,
    new_session,
    onnx_folder,
    read_onnx_manifest,
)
from moodshift.models.store import load_tensors, read_manifest, sha256_file

OPSET = 17
ATOL = 1e-4
CHECK_BATCH = 3     # batch size of the random check input when the batch axis is dynamic


class _Wrapped(torch.nn.Module):
    """A plain callable of tensors (the ports keep their weights as tensors) as an nn.Module."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *xs: torch.Tensor) -> Any:
        return self.fn(*xs)


def _as_tuple(out: Any) -> tuple[torch.Tensor, ...]:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def max_abs_diff(module: Callable[..., Any], path: Path, shapes: Sequence[tuple[int, ...]],
                 seed: int = 0) -> float:
    """Largest |torch - onnxruntime| over all outputs for uniform(-1, 1) inputs of ``shapes``."""
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-1.0, 1.0, s).astype(np.float32) for s in shapes]
    with torch.no_grad():
        expected = [t.numpy() for t in _as_tuple(module(*map(torch.from_numpy, inputs)))]
    session = new_session(path)
    got = session.run(None, {i.name: x for i, x in zip(session.get_inputs(), inputs)})
    if len(got) != len(expected):
        return float("inf")
    diffs = [float("inf") if a.shape != b.shape else float(np.max(np.abs(a - b), initial=0.0))
             for a, b in zip(expected, got)]
    return max(diffs)


def export_module(module: Callable[..., Any], example: torch.Tensor | Sequence[torch.Tensor],
                  path: Path, dynamic_batch: bool, *, input_names: Sequence[str] | None = None,
                  output_names: Sequence[str] | None = None,
                  batched_outputs: Sequence[str] | None = None, atol: float = ATOL,
                  dynamic_axes: dict[str, dict[int, str]] | None = None,
                  check_shapes: Sequence[Sequence[tuple[int, ...]]] | None = None,
                  finish: Callable[[Path], None] | None = None,
                  reference: Callable[..., Any] | None = None) -> Path:
    """Export ``module`` (an nn.Module or a callable of float32 tensors) traced on ``example``
    to ``path``, atomically: the one ONNX exporter. With dynamic_batch, axis 0 of every input
    and of the outputs in batched_outputs (default: all) is dynamic; dynamic_axes replaces that
    rule (e.g. free height and width too). ``finish(tmp)`` may rewrite the exported graph
    (e.g. float16 weights) before the check. The export is accepted only if onnxruntime matches
    ``reference`` (default: the module) within ``atol`` on random inputs of each entry of
    check_shapes (default: the example's shapes, with a batch of 3 when it is dynamic);
    otherwise a UserError, and no file."""
    from moodshift.imageio import atomic_write

    examples = tuple(example) if isinstance(example, (tuple, list)) else (example,)
    wrapped = module if isinstance(module, torch.nn.Module) else _Wrapped(module)
    wrapped.eval()
    with torch.no_grad():
        n_out = len(_as_tuple(wrapped(*examples)))
    inputs = list(input_names or (["input"] if len(examples) == 1 else
                                  [f"input{i}" for i in range(len(examples))]))
    outputs = list(output_names or (["output"] if n_out == 1 else
                                    [f"output{i}" for i in range(n_out)]))
    axes = dynamic_axes
    if axes is None and dynamic_batch:
        batched = outputs if batched_outputs is None else list(batched_outputs)
        axes = {name: {0: "batch"} for name in [*inputs, *batched]}
    if check_shapes is None:
        batch = CHECK_BATCH if dynamic_batch else None
        check_shapes = [[tuple(x.shape) if batch is None else (batch, *x.shape[1:])
                         for x in examples]]
    path = Path(path)

    def write(tmp: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")     # the TorchScript exporter's deprecation notices
            torch.onnx.export(wrapped, examples, str(tmp), dynamo=False, input_names=inputs,
                              output_names=outputs, dynamic_axes=axes, opset_version=OPSET,
                              do_constant_folding=True)
        if finish is not None:
            finish(tmp)
        for shapes in check_shapes:
            diff = max_abs_diff(reference or wrapped, tmp, shapes)
            if not np.isfinite(diff) or not diff < atol:
                raise UserError(f"{path.name}: ONNX export differs from torch by {diff:.3g} "
                                f"(limit {atol:g}); not installed")

    return atomic_write(path, write)


def _write_records(records: dict[str, dict[str, Any]], folder: Path) -> None:
    import json

    from moodshift.imageio import atomic_write_text

    text = json.dumps(dict(sorted(records.items())), indent=2)
    atomic_write_text(onnx_folder(folder) / ONNX_MANIFEST, text + "\n")


def export_net(name: str, folder: Path, tensors: Tensors | None = None,
               source_sha256: str | None = None) -> Path:
    """Export network ``name`` of runtime.NETS (built from ``tensors``, by default its cached
    weights) to ``<folder>/onnx/<name>.onnx`` and record it for runtime.onnx_path."""
    spec = NETS[name]
    source = read_manifest(folder).get(name)
    if tensors is None:
        tensors = load_tensors(name, folder)
    path = onnx_folder(folder) / f"{name}.onnx"
    export_module(build_torch(name, tensors), torch.zeros(spec.input_shape), path,
                  spec.dynamic_batch, input_names=["input"], output_names=spec.outputs,
                  batched_outputs=spec.batched_outputs or spec.outputs)
    records = read_onnx_manifest(folder)
    records[name] = {"file": path.name, "sha256": sha256_file(path), "size": path.stat().st_size,
                     "source_sha256": source_sha256 or (source.sha256 if source else None),
                     "opset": OPSET,
                     "torch": torch.__version__}
    _write_records(records, folder)
    return path


def export_shipped_net(name: str, weights: Path, sha256: str, folder: Path,
                       log: Callable[[str], None] = print) -> Path | None:
    """Export a network shipped as weights (checked against sha256) to ONNX in folder, unless
    a current export (one made from these very weights) is already there."""
    from moodshift.models.store import load_verified_file

    record = read_onnx_manifest(folder).get(name)
    if record and record.get("source_sha256") == sha256:
        return None
    tensors = load_verified_file(weights, sha256)
    path = export_net(name, folder, tensors, source_sha256=sha256)
    log(f"  {name}: ONNX {path.stat().st_size / 1e6:.1f} MB, checked against torch")
    return path


def export_faceapi_onnx(folder: Path, log: Callable[[str], None] = print) -> list[Path]:
    """Export the face-api networks (faceapi-ssd, -tiny, -expression, -agegender, -recognition)
    from the cached weights in folder."""
    paths: list[Path] = []
    for name in (n for n in NETS if n.startswith("faceapi-")):
        path = export_net(name, folder)
        log(f"  {name}: ONNX {path.stat().st_size / 1e6:.1f} MB, checked against torch")
        paths.append(path)
    return paths
