"""The human-rated mood model: EfficientNet-Lite features of a few views plus the colour
statistics, into heads fitted to mean human ratings (``moodshift train mood``).

A model is two files: ``<name>.safetensors`` (feature standardisation, the valence/arousal
head, optionally the emotion head) and ``<name>.json`` (views, per-data-set calibration, the
backbone's sha256, the training figures). moodshift ships ``default`` (OASIS + Emotion6),
``oasis-only`` and ``emotion6-only`` in ``moodshift/data/models/mood/``. Dominance is not
learnt (no human dominance ratings were available): it is the colour model's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodshift.errors import InputFileError, UserError
from moodshift.mood.base import Mood

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "models" / "mood"
SHIPPED_NAMES = ("default", "oasis-only", "emotion6-only")   # models/shipped.py: moodshift-mood-*
FORMAT = "moodshift-mood-heads/1"
BATCH = 16          # views per backbone call in measure_batch


SHARE_FLOOR = 1e-3   # kernel-regressed emotion shares are clipped here, then renormalised


def shares_to_probs(shares: np.ndarray) -> np.ndarray:
    """Regressed emotion shares (n, 7), which may stray below 0, as distributions."""
    q = np.clip(shares, SHARE_FLOOR, None)
    return q / q.sum(axis=-1, keepdims=True)


@dataclass
class Heads:
    """Fitted heads on standardised feature rows x: valence/arousal as per-set z-scores, either
    linear (``va_weight``) or RBF kernel ridge on the top principal components (``basis``,
    ``support``, ``dual``); optional emotion logits (linear), optionally mixed (weight
    ``config["emotion_mix"]``) with kernel-regressed shares (``emotion_dual``,
    ``emotion_share_bias``) on the valence/arousal kernel."""

    feature_mean: np.ndarray                  # (d,)
    feature_scale: np.ndarray                 # (d,)
    va_bias: np.ndarray                       # (2,)
    config: dict[str, Any]
    va_weight: np.ndarray | None = None       # (d, 2)          linear head
    basis: np.ndarray | None = None           # (d, k)          kernel head
    support: np.ndarray | None = None         # (m, k)
    dual: np.ndarray | None = None            # (m, 2)
    emotion_weight: np.ndarray | None = None  # (7, d)
    emotion_bias: np.ndarray | None = None    # (7,)
    emotion_dual: np.ndarray | None = None    # (m, 7)          kernel shares
    emotion_share_bias: np.ndarray | None = None   # (7,)

    TENSORS = ("feature_mean", "feature_scale", "va_bias", "va_weight", "basis", "support",
               "dual", "emotion_weight", "emotion_bias", "emotion_dual", "emotion_share_bias")

    @property
    def views(self) -> list[str]:
        return list(self.config["views"])

    def tensors(self) -> dict[str, np.ndarray]:
        return {k: np.ascontiguousarray(getattr(self, k), dtype=np.float32)
                for k in self.TENSORS if getattr(self, k) is not None}

    def kernel(self, x: np.ndarray) -> np.ndarray:
        """RBF kernel (n, m) of feature rows x (n, d) against the support rows."""
        if self.basis is None or self.support is None:
            raise ValueError("heads have no kernel head")
        s = (x - self.feature_mean) / self.feature_scale
        a = s @ self.basis / float(self.config["basis_scale"])
        sq = ((a * a).sum(1)[:, None] + (self.support * self.support).sum(1)[None]
              - 2.0 * a @ self.support.T)
        return np.exp(-float(self.config["gamma"]) / a.shape[1] * np.maximum(sq, 0.0))

    def va_z(self, x: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
        """Per-set z-scored valence/arousal (n, 2) of feature rows x (n, d) (``k``: their
        kernel, when already computed)."""
        if self.va_weight is not None:
            return (x - self.feature_mean) / self.feature_scale @ self.va_weight + self.va_bias
        if self.dual is None:
            raise ValueError("heads have neither a linear nor a kernel valence/arousal head")
        return (self.kernel(x) if k is None else k) @ self.dual + self.va_bias

    def predict(self, x: np.ndarray, dataset: str | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Valence, arousal on [-1, 1] (in ``dataset``'s calibration; None: the average) and
        emotion probabilities (n, 7) or None, for feature rows x (n, d)."""
        k = self.kernel(x) if self.va_weight is None else None
        z = self.va_z(x, k)
        cal = self.config["calibration"]
        out = []
        for i, axis in enumerate(("valence", "arousal")):
            means, sds = cal[axis]["mean"], cal[axis]["sd"]
            if dataset in means:
                m, s = means[dataset], sds[dataset]
            else:
                m, s = float(np.mean(list(means.values()))), float(np.mean(list(sds.values())))
            out.append(np.clip(z[:, i] * s + m, -1.0, 1.0))
        probs = None
        if self.emotion_weight is not None and self.emotion_bias is not None:
            logits = ((x - self.feature_mean) / self.feature_scale) @ self.emotion_weight.T
            logits = logits + self.emotion_bias
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
            mix = float(self.config.get("emotion_mix") or 0.0)
            if (mix > 0 and k is not None and self.emotion_dual is not None
                    and self.emotion_share_bias is not None):
                shares = shares_to_probs(k @ self.emotion_dual + self.emotion_share_bias)
                probs = (1.0 - mix) * probs + mix * shares
        return out[0], out[1], probs


def save_heads(heads: Heads, folder: Path, name: str) -> tuple[Path, str]:
    """Write ``<name>.safetensors`` and ``<name>.json`` atomically; returns the weights' path
    and sha256 (also recorded in the JSON)."""
    from safetensors.numpy import save

    from moodshift.imageio import atomic_write_bytes, atomic_write_text
    from moodshift.models.store import sha256_file

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    atomic_write_bytes(path, save(heads.tensors(), metadata={"format": FORMAT}))
    digest = sha256_file(path)
    config = {**heads.config, "format": FORMAT, "weights": path.name, "sha256": digest}
    atomic_write_text(folder / f"{name}.json", json.dumps(config, indent=1) + "\n")
    return path, digest


def load_heads(weights: Path, expected: tuple[str, str] | None = None) -> Heads:
    """Heads from ``<name>.safetensors`` and the ``<name>.json`` beside it. The weights must
    match the sha256 recorded in the JSON; shipped models also pass ``expected`` (the digests
    of both files)."""
    from safetensors.numpy import load_file

    from moodshift.models.store import sha256_file

    config_path = weights.with_suffix(".json")
    for p in (weights, config_path):
        if not p.is_file():
            raise InputFileError(p, "mood model file not found")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise InputFileError(config_path, f"unreadable mood model description ({exc})") from None
    if config.get("format") != FORMAT:
        raise InputFileError(config_path, f"not a moodshift mood model (format "
                                          f"{config.get('format')!r}, expected {FORMAT})")
    wanted = [(weights, str(config.get("sha256")))]
    if expected is not None:
        wanted = [(weights, expected[0]), (config_path, expected[1])]
    for path, digest in wanted:
        actual = sha256_file(path)
        if actual != digest:
            raise InputFileError(path, f"checksum mismatch (expected {digest[:12]}…, "
                                       f"got {actual[:12]}…)")
    try:
        t = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types
        raise InputFileError(weights, f"unreadable weights ({exc})") from None
    needed = ("feature_mean", "feature_scale", "va_bias")
    missing = [k for k in needed if k not in t]
    if "va_weight" not in t and not {"basis", "support", "dual"} <= set(t):
        missing.append("va_weight (or basis, support, dual)")
    if missing:
        raise InputFileError(weights, f"missing tensors {', '.join(missing)}")
    arrays = {k: t[k].astype(np.float64) for k in Heads.TENSORS if k in t}
    return Heads(config=config, **arrays)


def backbone_of(heads: Heads) -> str:
    """The backbone the heads were fitted to (heads from before the choice: Lite0)."""
    from moodshift.mood.features import BACKBONE, BACKBONES

    name = str(heads.config.get("backbone", BACKBONE))
    if name not in BACKBONES:
        raise UserError(f"mood model {heads.config.get('name')!r}: unknown backbone {name!r} "
                        f"(known: {', '.join(BACKBONES)})")
    return name


def _check_backbone(heads: Heads, origin: Path) -> None:
    """The heads only make sense on the backbone they were fitted to."""
    from moodshift.models.store import read_manifest

    name = backbone_of(heads)
    wanted = heads.config.get("backbone_sha256")
    record = read_manifest().get(name)
    if wanted and record is not None and record.sha256 != wanted:
        raise UserError(f"{origin}: fitted to {name} {wanted[:12]}…, but the cache "
                        f"holds {record.sha256[:12]}…; run `moodshift models pull --force`")


class RatedMoodModel:
    """``measure(image) -> Mood``: valence/arousal from the heads, dominance from colour."""

    def __init__(self, heads: Heads, name: str, backend: str = "auto",
                 extractor: Any = None) -> None:
        from moodshift.mood.features import FeatureExtractor

        self.heads = heads
        self.name = name
        self.extractor = extractor or FeatureExtractor(backend=backend,
                                                       backbone=backbone_of(heads))

    def features(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The heads' input row (d,) and the colour model's dominance."""
        from moodshift.mood.features import as_uint8_rgb, colour_features

        rgb = as_uint8_rgb(image)
        deep = self.extractor.views(rgb, self.heads.views).mean(axis=0)
        colour = colour_features(rgb)
        return np.concatenate([deep, colour]).astype(np.float64), float(colour[2])

    def measure(self, image: np.ndarray) -> Mood:
        x, dominance = self.features(image)
        v, a, p = self.heads.predict(x[None])
        probs = None if p is None else tuple(float(q) for q in p[0])
        return Mood(float(v[0]), float(a[0]), dominance, probs, self.name)

    def measure_batch(self, images: np.ndarray | list[np.ndarray]) -> list[Mood]:
        """Moods of several images, their views through the backbone in batches of BATCH."""
        from moodshift.mood.features import as_uint8_rgb, colour_features, make_views, normalise

        rgbs = [as_uint8_rgb(img) for img in images]
        if not rgbs:
            return []
        size = self.extractor.size
        views = np.concatenate([make_views(rgb, self.heads.views, size) for rgb in rgbs])
        deep = np.concatenate([np.asarray(self.extractor.net(normalise(views[i:i + BATCH]))[0])
                               for i in range(0, len(views), BATCH)])
        deep = deep.reshape(len(rgbs), len(self.heads.views), -1).mean(axis=1)
        colour = np.stack([colour_features(rgb) for rgb in rgbs])
        v, a, p = self.heads.predict(np.concatenate([deep, colour], axis=1).astype(np.float64))
        return [Mood(float(v[i]), float(a[i]), float(colour[i, 2]),
                     None if p is None else tuple(float(q) for q in p[i]), self.name)
                for i in range(len(rgbs))]


def shipped_digests(name: str) -> tuple[str, str]:
    """sha256 of the shipped ``<name>.safetensors`` and ``<name>.json`` (models/shipped.py)."""
    from moodshift.models.shipped import SHIPPED

    files = SHIPPED[f"moodshift-mood-{name}"].files
    return files[0].sha256, files[1].sha256


def load_rated_model(name_or_path: str | Path, backend: str = "auto",
                     extractor: Any = None) -> RatedMoodModel:
    """A shipped model by name (``default``, ``oasis-only``, ``emotion6-only``) or heads at a
    path (``.safetensors`` with its ``.json`` beside it, or a folder holding one)."""
    from moodshift.errors import ModelMissingError

    text = str(name_or_path)
    if text in SHIPPED_NAMES:
        path = SHIPPED_DIR / f"{text}.safetensors"
        if not path.exists():
            raise ModelMissingError(f"{path}: mood model {text!r} is missing from the "
                                    "installation")
        heads = load_heads(path, shipped_digests(text))
        name = text
    else:
        path = Path(text)
        if path.is_dir():
            found = sorted(path.glob("*.safetensors"))
            if len(found) != 1:
                raise InputFileError(path, "expected one mood model (.safetensors) in this folder")
            path = found[0]
        if not path.exists():
            raise UserError(f"unknown mood model {text!r}: use one of colour, "
                            f"{', '.join(SHIPPED_NAMES)} or a path")
        heads = load_heads(path)
        name = path.stem
    _check_backbone(heads, path)
    return RatedMoodModel(heads, name, backend, extractor)


__all__ = ["SHIPPED_NAMES", "Heads", "RatedMoodModel", "load_heads",
           "load_rated_model", "save_heads"]
