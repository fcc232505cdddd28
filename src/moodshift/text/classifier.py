"""The classifier head: multinomial logistic regression on [sentence embedding, cue counts].

Shipped as ``data/text/head.safetensors`` (weight 7 x F, bias 7) plus ``head.json`` (feature
layout and provenance); made by ``moodshift train text``. The shipped file's sha256 is pinned
here and checked on load; a head trained by the user is checked against the sha256 in its own
``head.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import InputFileError
from moodshift.models.shipped import shipped_file
from moodshift.text.clean import DATA_DIR
from moodshift.text.embedding import DIMENSION

SHIPPED_HEAD = DATA_DIR / "head.safetensors"
SHIPPED_HEAD_SHA256 = shipped_file("moodshift-text-head").sha256   # models/shipped.py
# Features per text: the 384-d all-MiniLM-L6-v2 embedding, then one cue count per emotion.
FEATURES = DIMENSION + len(EMOTIONS)


@dataclass(frozen=True)
class Head:
    weight: np.ndarray         # (7, F)
    bias: np.ndarray           # (7,)
    cue_scale: float           # cue counts are multiplied by this before the head sees them
    no_cue_threshold: float    # without cue words, other emotions need at least this probability
    embedding_model: str
    source: str

    def features(self, embeddings: np.ndarray, cue_counts: np.ndarray) -> np.ndarray:
        return build_features(embeddings, cue_counts, self.cue_scale)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return softmax_probabilities(features, self.weight, self.bias)


def softmax_probabilities(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Class probabilities of a linear head: softmax(x W^T + b), one row per text."""
    logits = x @ weight.T + bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def build_features(embeddings: np.ndarray, cue_counts: np.ndarray, cue_scale: float) -> np.ndarray:
    """[embedding | cue_scale * min(count, 3)] per row: capped so a list of synonyms
    ("furious, livid, raging") does not outweigh the sentence."""
    cues = np.minimum(np.asarray(cue_counts, np.float32), 3.0) * cue_scale
    return np.concatenate([np.asarray(embeddings, np.float32), cues], axis=1)


def head_config_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def save_head(weights_path: Path, weight: np.ndarray, bias: np.ndarray,
              config: dict[str, object]) -> str:
    """Write weights and config atomically; returns the weights' sha256."""

    from safetensors.numpy import save_file

    from moodshift.imageio import atomic_write, atomic_write_text
    from moodshift.models.store import sha256_file

    tensors = {"weight": np.ascontiguousarray(weight, np.float32),
               "bias": np.ascontiguousarray(bias, np.float32)}
    atomic_write(weights_path, lambda tmp: save_file(tensors, str(tmp)))
    digest = sha256_file(weights_path)
    config = dict(config) | {"sha256": digest, "classes": list(EMOTIONS)}
    atomic_write_text(head_config_path(weights_path), json.dumps(config, indent=2) + "\n")
    return digest


@lru_cache(maxsize=4)
def load_head(path: str | None = None) -> Head:
    """The shipped head (sha256 pinned in code) or a user-trained one (sha256 from its json)."""
    from moodshift.models.store import load_verified_file

    weights = Path(path) if path is not None else SHIPPED_HEAD
    config_file = head_config_path(weights)
    try:
        config = json.loads(config_file.read_text())
    except FileNotFoundError:
        raise InputFileError(config_file, "classifier head config is missing (train it with "
                             "`moodshift train text`)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(config_file, f"unreadable classifier head config ({exc})") from None
    if not isinstance(config, dict):
        raise InputFileError(config_file, "classifier head config must be a JSON object")
    expected = SHIPPED_HEAD_SHA256 if path is None else str(config.get("sha256", ""))
    tensors = load_verified_file(weights, expected)
    weight, bias = tensors.get("weight"), tensors.get("bias")
    if (weight is None or bias is None or weight.shape != (len(EMOTIONS), FEATURES)
            or bias.shape != (len(EMOTIONS),) or config.get("classes") != list(EMOTIONS)):
        raise InputFileError(weights, f"not a read-text classifier head (expected 7 classes "
                             f"x {FEATURES} features)")
    try:
        cue_scale = float(config["cue_scale"])
        threshold = float(config.get("no_cue_threshold", 0.6))
    except (KeyError, TypeError, ValueError):
        raise InputFileError(config_file, "classifier head config needs a numeric "
                             "cue_scale (and no_cue_threshold)") from None
    return Head(weight=weight, bias=bias, cue_scale=cue_scale, no_cue_threshold=threshold,
                embedding_model=str(config.get("embedding_model", "")), source=str(weights))
