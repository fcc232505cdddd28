"""Content images for ``moodshift train style``: random square crops from any folder of photos.

The folder is searched recursively (a COCO folder, LFW, or FER2013's ``train/<emotion>/``
tree all work). Images are decoded lazily, one batch at a time, so a folder of 100,000 photos
costs no memory; a file that cannot be decoded is skipped (and counted) the first time it fails
and never tried again. Each crop: scale the image so its shorter side is ``size`` x a random
factor in [1, 1.25] (portraits smaller than the crop are enlarged), take a random ``size`` x
``size`` window, mirror it left-right with probability 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from moodshift.errors import InputFileError, UserError
from moodshift.imageio import IMAGE_SUFFIXES, load_image

MAX_SCALE_JITTER = 1.25


def find_images(folder: str | Path) -> list[Path]:
    """Every image file under ``folder`` (recursively), sorted; a UserError if there are none."""
    root = Path(folder)
    if not root.exists():
        raise InputFileError(root, "no such content folder")
    if not root.is_dir():
        raise InputFileError(root, "is not a folder (--content needs a folder of photos)")
    files = sorted(p for p in root.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise InputFileError(root, "content folder contains no images "
                                   f"({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random size x size crop of an RGB uint8 image (rescaled first; see module doc)."""
    h, w = image.shape[:2]
    scale = size * rng.uniform(1.0, MAX_SCALE_JITTER) / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    pil = Image.fromarray(image).resize((nw, nh), Image.BILINEAR if scale > 1 else Image.BOX)
    arr = np.asarray(pil)
    top = int(rng.integers(0, nh - size + 1))
    left = int(rng.integers(0, nw - size + 1))
    crop = arr[top:top + size, left:left + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central square of an image at size x size (for the fixed sample-sheet inputs)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(np.ascontiguousarray(image[top:top + side, left:left + side]))
    return np.asarray(square.resize((size, size), Image.LANCZOS))


@dataclass
class ContentImages:
    """Random training crops from a folder; corrupt files are skipped and counted."""

    folder: Path
    files: list[Path]
    bad: set[int] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)   # "file: problem" of each skipped file

    @classmethod
    def from_folder(cls, folder: str | Path) -> "ContentImages":
        return cls(Path(folder), find_images(folder))

    def _load(self, index: int) -> np.ndarray | None:
        try:
            return load_image(self.files[index])
        except InputFileError as exc:
            self.bad.add(index)
            self.failures.append(str(exc))
            return None

    def batch(self, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """(n, size, size, 3) uint8 crops of randomly chosen readable images."""
        crops: list[np.ndarray] = []
        while len(crops) < n:
            if len(self.bad) >= len(self.files):
                raise UserError(f"{self.folder}: none of its {len(self.files)} image files "
                                f"could be decoded (first: {self.failures[0]})")
            index = int(rng.integers(len(self.files)))
            if index in self.bad:
                continue
            image = self._load(index)
            if image is not None:
                crops.append(random_crop(image, size, rng))
        return np.stack(crops)

    def fixed_samples(self, n: int, size: int) -> np.ndarray:
        """n evenly spaced, readable images as centre crops: the same inputs on every sheet."""
        picks: list[np.ndarray] = []
        step = max(1, len(self.files) // max(n, 1))
        for index in list(range(0, len(self.files), step)) + list(range(len(self.files))):
            if len(picks) == n:
                break
            if index in self.bad:
                continue
            image = self._load(index)
            if image is not None:
                picks.append(centre_crop(image, size))
        if not picks:
            raise UserError(f"{self.folder}: none of its {len(self.files)} image files could be "
                            f"decoded (first: {self.failures[0]})")
        return np.stack(picks)
