"""moodshift's shipped expression model run through onnxruntime, so inference needs no torch.

``moodshift models pull`` exports the shipped network (``export_shipped``) to
``<cache>/onnx/moodshift-expression.onnx``, recording the sha256 of the weights it came from.
``load_shipped_onnx`` uses that export only while it matches the shipped weights; otherwise the
PyTorch model in own.py is used. Both see the same crops (facecrop.py) and average the
central view with its mirror image.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.expression.facecrop import MARGIN, face_crops, resize_to
from moodshift.faces.base import Box
from moodshift.models.shipped import SHIPPED

NET_NAME = "moodshift-expression"
_FLOAT, _INT8 = SHIPPED[NET_NAME].files   # msnet.safetensors; msnet.int8.onnx (quantised)
SHIPPED_DIR = _FLOAT.path.parent
SHIPPED_ARCH = _FLOAT.path.name.split(".")[0]
SHIPPED_SHA256 = _FLOAT.sha256
SHIPPED_INT8_SHA256 = _INT8.sha256
BATCH = 64


def shipped_weights() -> Path:
    return SHIPPED_DIR / f"{SHIPPED_ARCH}.safetensors"


def shipped_config() -> dict[str, Any]:
    return json.loads(shipped_weights().with_suffix(".json").read_text())


def build(tensors: dict[str, np.ndarray]) -> Any:
    """The shipped architecture as a torch module (logits) from tensors: for the ONNX export."""
    import torch

    from moodshift.expression import nets

    config = shipped_config()
    model = nets.build(str(config["arch"]), **dict(config.get("options", {})))
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()},
                          strict=False)
    return model.eval()


def central_view(crops: np.ndarray, img_size: int, crop_fraction: float) -> np.ndarray:
    """The central crop_fraction of (n, S, S) crops at img_size (an exact integer crop when the
    sizes allow it, as for the shipped 48 -> 44 px, else a Pillow resize of the centre)."""
    store = crops.shape[-1]
    inner = store * crop_fraction
    off0 = (store - img_size) // 2
    if abs(inner - img_size) < 1e-6:
        return crops[:, off0:off0 + img_size, off0:off0 + img_size]
    lo = int(round((store - inner) / 2))
    hi = lo + int(round(inner))
    return np.stack([resize_to(c[lo:hi, lo:hi], img_size) for c in crops])


class OnnxMoodshiftExpression:
    """ExpressionModel for the shipped network through onnxruntime (same name as own.py's)."""

    name = "moodshift"

    def __init__(self, path: Path, config: dict[str, Any], margin: float = MARGIN) -> None:
        from moodshift.models.runtime import OnnxNet

        self.net = OnnxNet(path)
        self.margin = margin
        self.store_size = int(config["store_size"])
        self.img_size = int(config["img_size"])
        self.crop_fraction = float(config["crop_fraction"])
        self.channels = int(config["channels"])
        self.mean, self.std = float(config["mean"]), float(config["std"])

    def prepare(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        return face_crops(image, boxes, self.store_size, self.margin)

    def network_input(self, crops: np.ndarray) -> np.ndarray:
        """(n, C, S, S) float32 network input from (n, store, store) uint8 crops."""
        view = central_view(crops, self.img_size, self.crop_fraction)
        x = ((view.astype(np.float32) / 255.0 - self.mean) / self.std)[:, None]
        return np.repeat(x, self.channels, axis=1) if self.channels != 1 else x

    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        from moodshift.models.runtime import softmax

        if len(crops) == 0:
            return np.zeros((0, len(EMOTIONS)))
        x = self.network_input(crops)
        probs = []
        for i in range(0, len(x), BATCH):
            part = x[i:i + BATCH]
            both = np.concatenate([part, part[..., ::-1]])  # the view and its mirror, one run
            p = softmax(self.net(both)[0])
            probs.append((p[:len(part)] + p[len(part):]) / 2)
        out = np.concatenate(probs)
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        if not boxes:
            return np.zeros((0, len(EMOTIONS)))
        return self.predict_crops(self.prepare(image, boxes))


def shipped_int8() -> Path:
    return SHIPPED_DIR / f"{SHIPPED_ARCH}.int8.onnx"


def load_shipped_onnx() -> OnnxMoodshiftExpression | None:
    """The shipped int8 network (made by `moodshift models quantize`, checksum verified), else
    the float ONNX export of the shipped weights, else None (then own.py's torch model runs)."""
    from moodshift.models.store import sha256_file

    int8 = shipped_int8()
    if int8.is_file() and sha256_file(int8) == SHIPPED_INT8_SHA256:
        return OnnxMoodshiftExpression(int8, shipped_config())
    return load_float_onnx()


def load_float_onnx() -> OnnxMoodshiftExpression | None:
    """The float32 ONNX export of the shipped weights, or None if there is no current one."""
    from moodshift.models.runtime import onnx_path, read_onnx_manifest

    record = read_onnx_manifest().get(NET_NAME)
    if not record or record.get("source_sha256") != SHIPPED_SHA256:
        return None
    path = onnx_path(NET_NAME)
    return None if path is None else OnnxMoodshiftExpression(path, shipped_config())


def export_shipped(folder: Path, log: Callable[[str], None] = print) -> Path | None:
    """Export the shipped model to ONNX in folder unless a current export is already there."""
    from moodshift.models.onnx_export import export_shipped_net

    return export_shipped_net(NET_NAME, shipped_weights(), SHIPPED_SHA256, folder, log)
