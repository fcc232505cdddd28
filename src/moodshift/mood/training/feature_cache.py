"""Backbone and colour features of training images, cached on disk so re-runs are fast.

One ``.npz`` per image holds every view's features (float16) and the colour features; its name
hashes the image's path, size and modification time with the backbone's weights and the feature
version, so a changed image or backbone is extracted again and an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from moodshift.mood.features import ALL_VIEWS, BACKBONE, FeatureExtractor, colour_features

FEATURE_VERSION = "2"   # bump when the views, the taps or the colour features change
# 2: images are halved (box filter) before the views are cut


@dataclass
class ImageFeatures:
    views: dict[str, np.ndarray]   # view name -> (FEATURE_DIM,) float32
    colour: np.ndarray             # (len(COLOUR_NAMES),) float32

    def stack(self, views: Sequence[str]) -> np.ndarray:
        return np.stack([self.views[v] for v in views])


def default_cache_dir() -> Path:
    from moodshift.models.store import cache_dir

    return cache_dir() / "mood-features"


def backbone_digest(backbone: str = BACKBONE) -> str:
    """The cached backbone's sha256 (part of every cache key)."""
    from moodshift.models.store import read_manifest

    record = read_manifest().get(backbone)
    return record.sha256 if record else "unpulled"


def _key(path: Path, backbone: str) -> str:
    st = path.stat()
    text = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{backbone}|{FEATURE_VERSION}"
    return hashlib.sha1(text.encode()).hexdigest()


def _save(target: Path, feats: ImageFeatures) -> None:
    from moodshift.imageio import atomic_write

    arrays = {f"view:{k}": v.astype(np.float16) for k, v in feats.views.items()}

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, colour=feats.colour, **arrays)

    atomic_write(target, write)


def _load(target: Path) -> ImageFeatures | None:
    try:
        with np.load(target) as data:
            views = {k.removeprefix("view:"): data[k].astype(np.float32)
                     for k in data.files if k.startswith("view:")}
            return ImageFeatures(views, data["colour"].astype(np.float32))
    except (OSError, ValueError, KeyError):
        return None     # a damaged entry is extracted again


def extract_all(paths: Sequence[Path], views: Sequence[str] = ALL_VIEWS,
                cache: Path | None = None, extractor: FeatureExtractor | None = None,
                progress: Callable[[int, int], None] | None = None,
                digest: str | None = None, backbone: str = BACKBONE) -> list[ImageFeatures]:
    """Features of ``views`` of every image in ``paths`` (in order); views already in the cache
    are read, the others computed and added."""
    from moodshift.imageio import load_image

    cache = cache or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    digest = digest or backbone_digest(backbone)
    out: list[ImageFeatures] = []
    for i, path in enumerate(paths):
        target = cache / f"{_key(Path(path), digest)}.npz"
        feats = _load(target) if target.exists() else None
        missing = [v for v in views if feats is None or v not in feats.views]
        if missing:
            extractor = extractor or FeatureExtractor(backbone=backbone)
            rgb = load_image(path)
            fresh = dict(zip(missing, extractor.views(rgb, missing)))
            feats = ImageFeatures({**(feats.views if feats else {}), **fresh},
                                  feats.colour if feats else colour_features(rgb))
            _save(target, feats)
        assert feats is not None
        out.append(feats)
        if progress:
            progress(i + 1, len(paths))
    return out
