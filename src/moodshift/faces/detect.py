"""Choose and load a face detector by name, once per process.

Names: ``ssd`` (face-api SSD MobileNetV1), ``tiny`` (face-api Tiny Face Detector), ``haar``
(OpenCV), ``auto`` = ssd when its weights are cached, else haar. When ``auto`` falls back it
logs ONE warning through the ``moodshift`` logger (``logging``, not ``warnings``): with no
logging configured Python prints just the message, on one line, to stderr; the CLI may route it.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from moodshift.errors import ModelMissingError, UserError
from moodshift.faces.base import FaceDetector

log = logging.getLogger("moodshift")

DETECTORS = ("auto", "ssd", "tiny", "haar")
FALLBACK_WARNING = ("face-api weights are missing, using OpenCV's Haar face detector "
                    "(less accurate); run `moodshift models pull` to get them")


def _ssd() -> FaceDetector:
    from moodshift.faces.rescue import PaddedRetryDetector
    from moodshift.faces.ssd import SsdFaceDetector
    return PaddedRetryDetector(SsdFaceDetector())  # a second, padded look at small portraits


def _tiny() -> FaceDetector:
    from moodshift.faces.tiny import TinyFaceDetector
    return TinyFaceDetector()


def _haar() -> FaceDetector:
    from moodshift.faces.haar import HaarFaceDetector
    return HaarFaceDetector()


@lru_cache(maxsize=None)
def _load(key: str) -> FaceDetector:
    if key == "ssd":
        return _ssd()
    if key == "tiny":
        return _tiny()
    if key == "haar":
        return _haar()
    try:  # auto
        return _load("ssd")
    except ModelMissingError:
        log.warning(FALLBACK_WARNING)
        return _load("haar")


def load_detector(name: str = "auto") -> FaceDetector:
    """The detector called ``name`` (see DETECTORS), loaded once and cached per process."""
    key = name.strip().lower()
    if key not in DETECTORS:
        raise UserError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")
    return _load(key)


def clear_detector_cache() -> None:
    """Forget loaded detectors (tests; after `moodshift models pull` in a long-lived process)."""
    _load.cache_clear()
