"""Generated data for the mood model's tests: backbone weights and rated folders."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from moodshift.mood import backbone as B
from moodshift.mood.ratings import P_COLUMNS


def generated_weights(seed: int = 0) -> dict[str, np.ndarray]:
    """Weights for every tensor of the port, from a seeded numpy generator (not torch's init,
    so the fixed outputs below do not depend on torch's initialisers)."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, shape in B.expected_shapes().items():
        if key.endswith("running_var"):
            v = rng.uniform(0.5, 1.5, shape)
        elif key.endswith("running_mean") or key.endswith("bias"):
            v = rng.normal(0, 0.1, shape)
        elif len(shape) == 1:
            v = rng.uniform(0.8, 1.2, shape)
        else:
            v = rng.normal(0, 1.0 / np.sqrt(np.prod(shape[1:])), shape)
        out[key] = v.astype(np.float32)
    return out


def _image(rng: np.random.Generator, bright: float, sat: float, hue: float) -> np.ndarray:
    import cv2

    hsv = np.empty((40, 56, 3), dtype=np.float32)
    hsv[..., 0] = hue * 360.0
    hsv[..., 1] = sat
    hsv[..., 2] = bright
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    rgb = rgb + rng.normal(0, 0.03, rgb.shape)
    return np.clip(rgb * 255, 0, 255).astype(np.uint8)


def make_rated_folder(root: Path, layout: str, n: int, seed: int) -> Path:
    """Colour fields whose 'ratings' follow brightness (valence) and saturation (arousal), and
    whose emotion shares follow hue, so that even a random backbone plus the colour features
    can learn them."""
    rng = np.random.default_rng(seed)
    folder = root / layout
    (folder / "images").mkdir(parents=True)
    rows = []
    for i in range(n):
        bright, sat, hue = rng.uniform(0.15, 0.95), rng.uniform(0.05, 0.95), rng.uniform()
        name = f"img_{i:02d}.png"
        Image.fromarray(_image(rng, bright, sat, hue)).save(folder / "images" / name)
        v, a = np.clip(bright + rng.normal(0, 0.05), 0, 1), np.clip(sat + rng.normal(0, 0.05), 0, 1)
        if layout == "oasis":
            rows.append({"image": name, "theme": "x", "valence_mean": 1 + 6 * v, "valence_sd": 1,
                         "arousal_mean": 1 + 6 * a, "arousal_sd": 1})
        else:
            logits = 3.0 * np.cos(2 * np.pi * (hue - np.arange(7) / 7))
            shares = np.exp(logits) / np.exp(logits).sum()
            rows.append({"image": name, "valence": 1 + 8 * v, "arousal": 1 + 8 * a,
                         **dict(zip(P_COLUMNS, shares))})
    with open(folder / "ratings.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def rewrite_ratings(folder: Path, edit) -> Path:
    path = folder / "ratings.csv"
    rows = list(csv.DictReader(open(path)))
    rows, fields = edit(rows, list(rows[0]))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
