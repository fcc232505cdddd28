"""Fetch face-api's pretrained TF.js weights with npm and convert them to safetensors.

``npm pack`` downloads the published tarball without installing anything or running scripts.
Only the ``package/model/`` manifests and shards we convert are extracted (regular files, with
tarfile's "data" filter). Keys of the stored tensors are face-api's TF.js weight names
unchanged (e.g. ``MobilenetV1/Conv2d_0_pointwise/weights``, ``dense0/conv0/filters``), in TF
layout (NHWC filters ``[kh, kw, in, out]``); the SSD file keeps its anchors ``Output/extra_dim``
(1 x 5118 x 4, ymin xmin ymax xmax normalised) and its small int32 graph constants.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError
from moodshift.models.sources.npm import npm_pack
from moodshift.models.store import ModelRecord, store_tensors
from moodshift.models.tfjs import read_manifest_json, read_tfjs_weights

PACKAGE = "@vladmandic/face-api@1.7.15"
SOURCE = f"npm:{PACKAGE}"
LICENCE = "MIT"

# moodshift model name -> face-api model file stem in package/model/
MODELS: dict[str, str] = {
    "faceapi-ssd": "ssd_mobilenetv1_model",
    "faceapi-tiny": "tiny_face_detector_model",
    "faceapi-expression": "face_expression_model",
    "faceapi-agegender": "age_gender_model",
    "faceapi-recognition": "face_recognition_model",
}

def _wanted_names(tar: tarfile.TarFile) -> set[str]:
    """Tar member names of the manifests we convert and the shards they list."""
    names: set[str] = set()
    for stem in MODELS.values():
        manifest = f"package/model/{stem}-weights_manifest.json"
        try:
            member = tar.getmember(manifest)
        except KeyError:
            member = None
        if member is None or not member.isfile():
            raise UserError(f"{PACKAGE}: tarball lacks {manifest}")
        names.add(manifest)
    return names


def extract_models(tarball: Path, dest: Path) -> Path:
    """Extract the needed model files from the npm tarball; return the extracted model folder."""
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            manifests = _wanted_names(tar)
            tar.extractall(dest, members=[tar.getmember(n) for n in manifests], filter="data")
            shards: set[str] = set()
            for name in manifests:
                for group in read_manifest_json(dest / name):
                    for rel in group["paths"]:
                        if "/" in rel or "\\" in rel or rel in ("", ".", ".."):
                            raise UserError(f"{name}: unexpected shard path {rel!r}")
                        shards.add(f"package/model/{rel}")
            members = [tar.getmember(n) for n in sorted(shards)]
            if not all(m.isfile() for m in members):
                raise UserError(f"{tarball.name}: a weight shard is not a regular file")
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise UserError(f"{tarball}: cannot extract face-api models ({exc})") from None
    return dest / "package" / "model"


def convert(model_dir: Path, folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    """Convert the TF.js models in model_dir into safetensors files in the cache folder."""
    records: list[ModelRecord] = []
    for name, stem in MODELS.items():
        tensors = read_tfjs_weights(model_dir / f"{stem}-weights_manifest.json")
        records.append(store_tensors(name, tensors, SOURCE, LICENCE, folder))
        log(f"  {name}: {len(tensors)} tensors")
    return records


def pull(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    """Fetch face-api with npm and store faceapi-ssd, -tiny, -expression, -agegender and
    -recognition, then
    export them to ONNX (what inference runs; see moodshift.models.onnx_export)."""
    with tempfile.TemporaryDirectory(prefix="moodshift-faceapi-") as tmp:
        work = Path(tmp)
        tarball = npm_pack(PACKAGE, work, log,
                           missing_hint="moodshift falls back to OpenCV's Haar face detector")
        model_dir = extract_models(tarball, work / "x")
        records = convert(model_dir, folder, log)
    from moodshift.models.onnx_export import export_faceapi_onnx
    export_faceapi_onnx(folder, log)
    return records
