"""Read TensorFlow.js ``weights_manifest.json`` files and their binary shards into numpy arrays.

Format (tfjs-core io): the manifest is a list of groups, each with ``paths`` (shard files, read
back to back in that order) and ``weights`` (name, shape, dtype, optional ``quantization``).
Weights are packed one after another over the concatenated shards of their group. A quantised
weight is stored as ``uint8``/``uint16`` (``w = q * scale + min``) or ``float16``; it is returned as
float32, or rounded to int32 when its declared dtype is int32. Unquantised float32 and int32
weights are returned as stored. The total byte count must match the shards exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from moodshift.errors import UserError

# Little-endian storage type of each dtype as it appears in the shards.
_STORED: dict[str, np.dtype[Any]] = {
    "float32": np.dtype("<f4"),
    "int32": np.dtype("<i4"),
    "bool": np.dtype("u1"),
    "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"),
    "float16": np.dtype("<f2"),
}


def read_manifest_json(path: Path) -> list[dict[str, Any]]:
    """The manifest's groups; a UserError naming the file if it is not a TF.js manifest."""
    try:
        groups = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: cannot read TF.js weights manifest ({exc})") from None
    if not isinstance(groups, list) or not all(
            isinstance(g, dict) and "paths" in g and "weights" in g for g in groups):
        raise UserError(f"{path}: not a TF.js weights manifest (expected a list of groups "
                        "with 'paths' and 'weights')")
    return groups


def stored_dtype(spec: dict[str, Any]) -> np.dtype[Any]:
    """The numpy dtype a weight occupies in the shard (its quantised type if quantised)."""
    quant = spec.get("quantization")
    name = quant["dtype"] if quant else spec["dtype"]
    if name not in _STORED:
        raise UserError(f"weight {spec.get('name')!r}: unsupported TF.js dtype {name!r}")
    return _STORED[name]


def weight_nbytes(spec: dict[str, Any]) -> int:
    return math.prod(spec["shape"]) * stored_dtype(spec).itemsize


def decode_weight(spec: dict[str, Any], raw: bytes) -> np.ndarray:
    """Turn one weight's bytes into an array of its declared shape and dtype."""
    shape = tuple(int(d) for d in spec["shape"])
    values = np.frombuffer(raw, dtype=stored_dtype(spec))
    quant = spec.get("quantization")
    if quant:
        if quant["dtype"] == "float16":
            out = values.astype(np.float32)
        else:
            out = (values.astype(np.float64) * float(quant["scale"]) + float(quant["min"]))
        if spec["dtype"] == "int32":
            return np.round(out).astype(np.int32).reshape(shape)
        return out.astype(np.float32).reshape(shape)
    if spec["dtype"] == "bool":
        return values.astype(bool).reshape(shape)
    return values.astype(values.dtype.newbyteorder("="), copy=True).reshape(shape)


def read_group(folder: Path, group: dict[str, Any], manifest: Path) -> dict[str, np.ndarray]:
    """Decode one group: concatenate its shards and slice its weights out in order."""
    chunks: list[bytes] = []
    for rel in group["paths"]:
        shard = folder / rel
        try:
            chunks.append(shard.read_bytes())
        except OSError as exc:
            raise UserError(f"{shard}: cannot read TF.js weight shard ({exc})") from None
    data = b"".join(chunks)
    expected = sum(weight_nbytes(spec) for spec in group["weights"])
    if expected != len(data):
        names = ", ".join(str(folder / p) for p in group["paths"])
        raise UserError(f"{names}: TF.js shards hold {len(data)} bytes but {manifest.name} "
                        f"describes {expected}; the download is truncated or mismatched")
    out: dict[str, np.ndarray] = {}
    offset = 0
    for spec in group["weights"]:
        size = weight_nbytes(spec)
        out[spec["name"]] = decode_weight(spec, data[offset:offset + size])
        offset += size
    return out


def read_tfjs_weights(manifest: str | Path) -> dict[str, np.ndarray]:
    """All weights described by a ``*-weights_manifest.json``, shards resolved next to it."""
    path = Path(manifest)
    tensors: dict[str, np.ndarray] = {}
    for group in read_manifest_json(path):
        for name, array in read_group(path.parent, group, path).items():
            if name in tensors:
                raise UserError(f"{path}: weight {name!r} appears twice")
            tensors[name] = array
    return tensors
