"""Tiny intent-carrying images for the SAM rating tests (library and command line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from moodshift.emotions import EMOTION_VAD
from moodshift.imageio import save_image
from moodshift.models.store import sha256_file

INTENDED = ("happy", "sad", "angry")


def make_images(folder: Path, with_plain: bool = False) -> dict[str, str]:
    """Three small PNGs carrying stylize-like intent metadata; returns {emotion: sha256}."""
    folder.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for i, emotion in enumerate(INTENDED):
        img = np.full((24, 32, 3), (40 + 70 * i, 120, 200 - 60 * i), np.uint8)
        path = folder / f"{emotion}.png"
        save_image(img, path, metadata={"tool": "stylize", "emotion": emotion,
                                        "target_vad": EMOTION_VAD[emotion].to_json()})
        hashes[emotion] = sha256_file(path)
    if with_plain:
        Image.new("RGB", (20, 20), (9, 9, 9)).save(folder / "plain.jpg")
        hashes["plain"] = sha256_file(folder / "plain.jpg")
    return hashes
