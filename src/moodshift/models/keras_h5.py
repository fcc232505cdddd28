"""Reading Keras HDF5 model files (``model.save(...)`` in Keras 2) with h5py alone.

A Keras 2 ``.hdf5`` holds the architecture as JSON in the ``model_config`` attribute and the
weights under ``model_weights/<layer>/``, the order of each layer's weights given by its
``weight_names`` attribute. Weights keep Keras's layout (conv kernels ``[kh, kw, in, out]``,
depthwise kernels ``[kh, kw, in, multiplier]``) and are keyed ``"<layer>/<short name>"``, e.g.
``conv2d_1/kernel`` or ``batch_normalization_1/moving_variance``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodshift.errors import UserError


@dataclass(frozen=True)
class KerasLayer:
    name: str
    class_name: str
    config: dict[str, object]
    inbound: tuple[str, ...]          # names of the layers feeding this one


@dataclass(frozen=True)
class KerasModel:
    layers: tuple[KerasLayer, ...]
    weights: dict[str, np.ndarray]
    keras_version: str

    def layer(self, name: str) -> KerasLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else str(value)


def _short(weight_name: str) -> str:
    """``conv2d_1/conv2d_1_1/kernel:0`` -> ``kernel``."""
    return weight_name.rsplit("/", 1)[-1].split(":", 1)[0]


def _inbound(layer: dict) -> tuple[str, ...]:
    nodes = layer.get("inbound_nodes") or []
    names: list[str] = []
    for node in nodes:
        if isinstance(node, list):                       # Keras 2: [[name, idx, idx, {}], ...]
            names += [str(item[0]) for item in node if isinstance(item, list) and item]
        elif isinstance(node, dict):                     # Keras 3 style
            for arg in node.get("args", []):
                hist = arg.get("config", {}).get("keras_history") if isinstance(arg, dict) else None
                if hist:
                    names.append(str(hist[0]))
    return tuple(names)


def read_keras_h5(source: str | Path | bytes) -> KerasModel:
    """Parse a Keras 2 HDF5 model file (path or bytes) into layers and named weights."""
    import h5py

    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        fh = h5py.File(handle, "r")
    except OSError as exc:
        raise UserError(f"not a readable HDF5 file ({exc})") from None
    with fh:
        if "model_config" not in fh.attrs:
            raise UserError("HDF5 file has no Keras model_config")
        config = json.loads(_text(fh.attrs["model_config"]))
        raw_layers = config.get("config", {}).get("layers", [])
        layers = tuple(KerasLayer(str(layer.get("config", {}).get("name", layer.get("name"))),
                                  str(layer["class_name"]), dict(layer.get("config", {})),
                                  _inbound(layer))
                       for layer in raw_layers)
        group = fh["model_weights"] if "model_weights" in fh else fh
        weights: dict[str, np.ndarray] = {}
        for lname in (_text(n) for n in group.attrs.get("layer_names", [])):
            lgroup = group[lname]
            for wname in (_text(n) for n in lgroup.attrs.get("weight_names", [])):
                weights[f"{lname}/{_short(wname)}"] = np.asarray(lgroup[wname], dtype=np.float32)
        version = _text(fh.attrs.get("keras_version", b"?"))
    return KerasModel(layers, weights, version)
