"""A tiny FER-style training tree of face-ish blobs for the conditional GAN tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def face_blob(seed: int, smile: bool) -> np.ndarray:
    """A 48x48 grey face-ish blob; the mouth curves up for the 'happy' class."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:48, 0:48]
    img = 60 + rng.normal(0, 8, (48, 48))
    img[((xx - 24) / 16) ** 2 + ((yy - 24) / 20) ** 2 <= 1] = 170
    for ex in (17, 31):
        img[(np.abs(xx - ex) < 3) & (np.abs(yy - 18) < 2)] = 30
    curve = 32 + (np.abs(xx - 24) / 4) ** 2 / 4 * (-1 if smile else 1)
    img[(np.abs(yy - curve) < 1.5) & (np.abs(xx - 24) < 8)] = 40
    return np.clip(img, 0, 255).astype(np.uint8)


def fer_tree(root: Path, per_class: int = 6) -> Path:
    """A FER-style folder (happy, sad) with a gan-labels.csv, so no face-api model is needed."""
    rows = ["file,age,age_group,gender,p_gender"]
    for k, emotion in enumerate(("happy", "sad")):
        (root / emotion).mkdir(parents=True)
        for i in range(per_class):
            name = f"{emotion}/{i}.png"
            Image.fromarray(face_blob(10 * k + i, emotion == "happy")).save(root / name)
            rows.append(f"{name},{25 + 20 * (i % 3)},x,{('female', 'male')[i % 2]},0.9")
    (root / "gan-labels.csv").write_text("\n".join(rows) + "\n")
    return root
