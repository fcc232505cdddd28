"""Backbone and colour features of training images, cached on disk so re-runs are fast.

One ``.npz`` per image holds every view's features (float16) and the colour features; its name
hashes the image's path, size and modification time with the backbone's weights and the feature
version, so a changed image or backbone is extracted again and an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from moodshift.mood.features import ALL_VIEWS, BACKBONE, FeatureExtractor, colour_features

FEATURE_VERSION = "1"   # bump when the views, the taps or the colour features change


@dataclass
class ImageFeatures:
    views: np.ndarray      # (len(ALL_VIEWS), FEATURE_DIM) float32
    colour: np.ndarray     # (len(COLOUR_NAMES),) float32


def default_cache_dir() -> Path:
    from moodshift.models.store import cache_dir

    return cache_dir() / "mood-features"


def _backbone_digest() -> str:
    from moodshift.models.store import read_manifest

    record = read_manifest().get(BACKBONE)
    return record.sha256 if record else "unpulled"


def _key(path: Path, backbone: str) -> str:
    st = path.stat()
    text = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{backbone}|{FEATURE_VERSION}"
    return hashlib.sha1(text.encode()).hexdigest()


def _save(target: Path, feats: ImageFeatures) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".npz.part", dir=target.parent)
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, views=feats.views.astype(np.float16), colour=feats.colour)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def extract_all(paths: Sequence[Path], cache: Path | None = None,
                extractor: FeatureExtractor | None = None,
                progress: Callable[[int, int], None] | None = None,
                backbone_digest: str | None = None) -> list[ImageFeatures]:
    """Features of every image in ``paths`` (in order), from the cache where present."""
    from moodshift.imageio import load_image

    cache = cache or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    digest = backbone_digest or _backbone_digest()
    out: list[ImageFeatures] = []
    for i, path in enumerate(paths):
        target = cache / f"{_key(Path(path), digest)}.npz"
        feats = None
        if target.exists():
            try:
                with np.load(target) as data:
                    feats = ImageFeatures(data["views"].astype(np.float32),
                                          data["colour"].astype(np.float32))
            except (OSError, ValueError, KeyError):
                feats = None     # a damaged cache entry is extracted again
        if feats is None:
            extractor = extractor or FeatureExtractor()
            rgb = load_image(path)
            feats = ImageFeatures(extractor.views(rgb, ALL_VIEWS), colour_features(rgb))
            _save(target, feats)
        out.append(feats)
        if progress:
            progress(i + 1, len(paths))
    return out
