"""Readers for labelled face-expression data, all returning one ``ImageSet``.

Supported layouts (``read_dataset`` picks by what it finds):

- a class-subfolder tree ``ROOT/<emotion>/*.jpg`` (synonyms such as ``anger``, ``happiness``,
  ``fearful`` are accepted; an unknown folder name is an error that lists the valid names);
- a split tree ``ROOT/{train,val,test}/<emotion>/...`` (FER2013 as images);
- the FER2013 CSV (``emotion,pixels,Usage``; codes 0 angry 1 disgust 2 fear 3 happy 4 sad
  5 surprise 6 neutral; Usage Training / PublicTest / PrivateTest);
- ExpW (``label.lst`` lines ``image_name face_id top left right bottom confidence label``, codes as
  FER2013, images in ``image/`` or ``origin/``; each face box is cropped);
- a folder with ``labels.csv`` (``image,emotion``).

Images are kept as grey uint8 arrays (H, W) at their own size (or, with ``size``, resized to
``size`` x ``size`` at read time). Labels are indices into ``moodshift.emotions.EMOTIONS``.
Unreadable images are skipped and counted; labels.csv rows whose file is missing are reported.
Data without a split of its own is split 70:20:10 (train:val:test) with a fixed seed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from moodshift.emotions import EMOTIONS, canonical_emotion
from moodshift.errors import UserError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
SPLIT_NAMES = {"train": ("train", "training"), "val": ("val", "valid", "validation", "publictest"),
               "test": ("test", "privatetest")}
SPLIT_SEED = 20240611
SPLIT_FRACTIONS = (0.7, 0.2, 0.1)
# FER2013 and ExpW integer codes are already in EMOTIONS order.
FER_CODES = EMOTIONS
EXPW_CODES = EMOTIONS


@dataclass
class ImageSet:
    """Labelled grey face images. ``images`` are uint8 (H, W) arrays, possibly of mixed sizes."""

    images: list[np.ndarray]
    labels: np.ndarray                      # int64 indices into EMOTIONS
    names: list[str]
    source: str = ""
    skipped: list[str] = field(default_factory=list)   # unreadable files
    missing: list[str] = field(default_factory=list)   # listed but absent files

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx: np.ndarray | list[int], source: str | None = None) -> "ImageSet":
        idx = list(np.asarray(idx, dtype=np.int64))
        return ImageSet([self.images[i] for i in idx], self.labels[idx],
                        [self.names[i] for i in idx], source or self.source,
                        list(self.skipped), list(self.missing))

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(EMOTIONS))
        return {e: int(c) for e, c in zip(EMOTIONS, counts)}

    def array(self, size: int) -> np.ndarray:
        """All images as one uint8 array (n, size, size), resized where needed."""
        out = np.empty((len(self.images), size, size), dtype=np.uint8)
        for i, img in enumerate(self.images):
            out[i] = img if img.shape == (size, size) else resize_grey(img, size)
        return out

    def report(self) -> str:
        """One line about what was read, skipped and missing."""
        parts = [f"{len(self)} images from {self.source}"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} unreadable skipped (first: {self.skipped[0]})")
        if self.missing:
            parts.append(f"{len(self.missing)} listed but missing (first: {self.missing[0]})")
        return "; ".join(parts)


@dataclass
class DataSplits:
    train: ImageSet
    val: ImageSet
    test: ImageSet | None
    description: str


def resize_grey(img: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR), dtype=np.uint8)


def _read_grey(path: Path, size: int | None) -> np.ndarray | None:
    """A grey uint8 array, or None if the file cannot be decoded."""
    try:
        with Image.open(path) as im:
            im.load()
            grey = im.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    if size is not None and grey.size != (size, size):
        grey = grey.resize((size, size), Image.BILINEAR)
    return np.asarray(grey, dtype=np.uint8)


def _finish(images: list[np.ndarray], labels: list[int], names: list[str], source: str,
            skipped: list[str], missing: list[str]) -> ImageSet:
    if not images:
        extra = f" ({len(skipped)} unreadable)" if skipped else ""
        raise UserError(f"{source}: no labelled images found{extra}")
    return ImageSet(images, np.asarray(labels, dtype=np.int64), names, source, skipped, missing)


def _emotion_index(name: str) -> int | None:
    found = canonical_emotion(name)
    return None if found is None else EMOTIONS.index(found)


def read_class_folders(root: str | Path, size: int | None = None) -> ImageSet:
    """``root/<emotion>/*`` with emotion names or synonyms as folder names."""
    root = Path(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    unknown = [p.name for p in folders if _emotion_index(p.name) is None]
    if unknown:
        raise UserError(f"{root}: unknown class folder(s) {', '.join(unknown)}; "
                        f"use one of {', '.join(EMOTIONS)} (or a common synonym)")
    images, labels, names, skipped = [], [], [], []
    for folder in folders:
        label = _emotion_index(folder.name)
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            img = _read_grey(path, size)
            if img is None:
                skipped.append(str(path))
                continue
            images.append(img)
            labels.append(label)
            names.append(f"{folder.name}/{path.name}")
    return _finish(images, labels, names, str(root), skipped, [])


def read_labels_csv(root: str | Path, size: int | None = None,
                    csv_path: str | Path | None = None) -> ImageSet:
    """A folder of images with ``labels.csv`` (columns ``image,emotion``)."""
    root = Path(root)
    csv_path = Path(csv_path) if csv_path else root / "labels.csv"
    images, labels, names, skipped, missing = [], [], [], [], []
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
        if "image" not in cols or "emotion" not in cols:
            raise UserError(f"{csv_path}: expected columns image,emotion; found "
                            f"{', '.join(reader.fieldnames or []) or 'none'}")
        for line, row in enumerate(reader, start=2):
            name = (row[cols["image"]] or "").strip()
            label = _emotion_index(row[cols["emotion"]] or "")
            if label is None:
                raise UserError(f"{csv_path}:{line}: unknown emotion {row[cols['emotion']]!r}; "
                                f"use one of {', '.join(EMOTIONS)}")
            path = root / name
            if not path.is_file():
                missing.append(name)
                continue
            img = _read_grey(path, size)
            if img is None:
                skipped.append(name)
                continue
            images.append(img)
            labels.append(label)
            names.append(name)
    return _finish(images, labels, names, str(csv_path), skipped, missing)


def read_fer_csv(path: str | Path, size: int | None = None) -> dict[str, ImageSet]:
    """The FER2013 CSV, as {"train", "val", "test"} by its Usage column (or "all" without one)."""
    path = Path(path)
    parts: dict[str, tuple[list, list, list]] = {}
    skipped: list[str] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
        if "emotion" not in cols or "pixels" not in cols:
            raise UserError(f"{path}: not a FER2013 CSV (expected columns emotion,pixels[,Usage])")
        for line, row in enumerate(reader, start=2):
            usage = (row.get(cols.get("usage", ""), "") or "all").strip().lower()
            split = next((k for k, v in SPLIT_NAMES.items() if usage in v), "all")
            try:
                code = int(row[cols["emotion"]])
                pixels = np.array(row[cols["pixels"]].split(), dtype=np.float64)
                side = int(round(len(pixels) ** 0.5))
                if not 0 <= code < len(FER_CODES) or side * side != len(pixels) or side == 0:
                    raise ValueError
            except (ValueError, TypeError, AttributeError):
                skipped.append(f"{path.name}:{line}")
                continue
            img = np.clip(pixels, 0, 255).astype(np.uint8).reshape(side, side)
            if size is not None and side != size:
                img = resize_grey(img, size)
            imgs, labs, names = parts.setdefault(split, ([], [], []))
            imgs.append(img)
            labs.append(EMOTIONS.index(FER_CODES[code]))
            names.append(f"{path.name}:{line}")
    if not parts:
        raise UserError(f"{path}: no usable rows ({len(skipped)} malformed)")
    return {k: _finish(*v, f"{path}[{k}]", skipped, []) for k, v in parts.items()}


def read_expw(root: str | Path, size: int | None = 48, min_confidence: float = 0.0) -> ImageSet:
    """ExpW: ``root/label.lst`` (or ``root/label/label.lst``) plus an image folder; boxes cropped."""
    root = Path(root)
    lst = next((p for p in (root / "label.lst", root / "label" / "label.lst") if p.is_file()), None)
    if lst is None:
        raise UserError(f"{root}: no label.lst found (expected ExpW layout)")
    img_dir = next((d for d in (root / "image" / "origin", root / "origin", root / "image",
                                root / "images", root) if d.is_dir()), root)
    images, labels, names, skipped, missing = [], [], [], [], []
    cache: dict[str, Image.Image | None] = {}
    for line in lst.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if len(fields) < 8:
            continue
        name = fields[0]
        try:
            top, left, right, bottom = (int(float(v)) for v in fields[2:6])
            conf, code = float(fields[6]), int(fields[7])
        except ValueError:
            skipped.append(line.strip()[:80])
            continue
        if conf < min_confidence or not 0 <= code < len(EXPW_CODES):
            continue
        if name not in cache:
            cache.clear()      # label.lst groups faces by image: keep only the current photo
            path = img_dir / name
            if not path.is_file():
                cache[name] = None
                missing.append(name)
            else:
                try:
                    with Image.open(path) as im:
                        im.load()
                        cache[name] = im.convert("L")
                except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
                    cache[name] = None
                    skipped.append(name)
        photo = cache[name]
        if photo is None or right <= left or bottom <= top:
            continue
        crop = photo.crop((left, top, right, bottom))
        if size is not None:
            crop = crop.resize((size, size), Image.BILINEAR)
        images.append(np.asarray(crop, dtype=np.uint8))
        labels.append(EMOTIONS.index(EXPW_CODES[code]))
        names.append(f"{name}#{fields[1]}")
    return _finish(images, labels, names, str(root), skipped, missing)


def split_set(data: ImageSet, fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
              seed: int = SPLIT_SEED) -> tuple[ImageSet, ImageSet, ImageSet]:
    """A stratified train/val/test split (70:20:10 by default) with a fixed seed."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    for c in range(len(EMOTIONS)):
        idx = np.flatnonzero(data.labels == c)
        rng.shuffle(idx)
        n_train = int(round(len(idx) * fractions[0]))
        n_val = int(round(len(idx) * fractions[1]))
        parts[0] += idx[:n_train].tolist()
        parts[1] += idx[n_train:n_train + n_val].tolist()
        parts[2] += idx[n_train + n_val:].tolist()
    return tuple(data.subset(sorted(p), f"{data.source}[{k}]")  # type: ignore[return-value]
                 for p, k in zip(parts, ("train", "val", "test")))


def split_dirs(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for child in root.iterdir() if root.is_dir() else []:
        if child.is_dir():
            for split, aliases in SPLIT_NAMES.items():
                if child.name.lower() in aliases:
                    found[split] = child
    return found


def read_dataset(path: str | Path, size: int | None = None) -> ImageSet:
    """Any supported layout as one ImageSet (a split tree or CSV is read whole)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix.lower() == ".csv":
            sets = read_fer_csv(path, size)
            return _concat(list(sets.values()), str(path))
        if path.name == "label.lst":
            return read_expw(path.parent, size or 48)
        raise UserError(f"{path}: expected a folder, a FER2013 .csv or an ExpW label.lst")
    if (path / "labels.csv").is_file():
        return read_labels_csv(path, size)
    if (path / "label.lst").is_file() or (path / "label" / "label.lst").is_file():
        return read_expw(path, size or 48)
    splits = split_dirs(path)
    if splits:
        return _concat([read_class_folders(p, size) for p in splits.values()], str(path))
    return read_class_folders(path, size)


def load_splits(path: str | Path, size: int | None = 48) -> DataSplits:
    """Train/val(/test) sets: the data's own split where it has one, else 70:20:10 (fixed seed)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix.lower() == ".csv":
        sets = read_fer_csv(path, size)
        if "train" in sets and ("val" in sets or "test" in sets):
            val = sets.get("val") or sets["test"]
            test = sets.get("test") if "val" in sets else None
            return DataSplits(sets["train"], val, test, "the CSV's Usage column")
        train, val, test = split_set(_concat(list(sets.values()), str(path)))
        return DataSplits(train, val, test, "70:20:10 stratified split, seed %d" % SPLIT_SEED)
    splits = split_dirs(path) if path.is_dir() else {}
    if "train" in splits and ("val" in splits or "test" in splits):
        train = read_class_folders(splits["train"], size)
        val_dir = splits.get("val") or splits["test"]
        val = read_class_folders(val_dir, size)
        test = read_class_folders(splits["test"], size) if "val" in splits and "test" in splits \
            else None
        return DataSplits(train, val, test, f"the data's own split ({', '.join(sorted(splits))})")
    train, val, test = split_set(read_dataset(path, size))
    return DataSplits(train, val, test, "70:20:10 stratified split, seed %d" % SPLIT_SEED)


def _concat(sets: list[ImageSet], source: str) -> ImageSet:
    return ImageSet([i for s in sets for i in s.images],
                    np.concatenate([s.labels for s in sets]),
                    [n for s in sets for n in s.names], source,
                    sorted({x for s in sets for x in s.skipped}),
                    sorted({x for s in sets for x in s.missing}))
