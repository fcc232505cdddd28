"""Training data for the conditional GAN: faces with emotion, age-group and gender labels.

Two sources:

* a FER2013-style folder tree ``<root>/<emotion>/*.jpg`` (48x48 grey faces). FER has emotion
  labels only, so age group and gender are labelled automatically by face-api's age/gender
  network (``moodshift models pull``), with the whole image as the face box. The labels are
  cached in a CSV (file, age, age_group, gender, p_gender) in the moodshift cache, reused on the
  next run, and copied beside the trained model as ``gan-labels.csv``. A ``gan-labels.csv``
  inside the data folder (same columns; e.g. hand-made labels) takes precedence.
* CelebA (``list_attr_celeba.txt`` + ``img_align_celeba/``): its Smiling, Young and Male
  attributes map to happy/neutral, young_adult/middle_aged and male/female.

Every image becomes a ``size x size`` grey uint8 array (the GAN's native resolution).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image

from moodshift.emotions import EMOTIONS, canonical_emotion
from moodshift.errors import InputFileError, UserError
from moodshift.people import AGE_GROUPS, GENDERS, age_group_of

LABELS_FILE = "gan-labels.csv"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def age_group(age: float) -> str:
    """face-api's age regression as an age group (negative ages count as child, NaN as elderly,
    as the age bands always read them)."""
    if age != age:
        return AGE_GROUPS[-1]
    return age_group_of(max(age, 0.0))


@dataclass
class FaceSet:
    """Grey faces (n, S, S) uint8 and integer labels into EMOTIONS, AGE_GROUPS, GENDERS."""

    images: np.ndarray
    emotion: np.ndarray
    age: np.ndarray
    gender: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.images)

    def counts(self) -> dict[str, dict[str, int]]:
        """How many faces carry each label value (for the model card)."""
        def tally(values: np.ndarray, names: tuple[str, ...]) -> dict[str, int]:
            return {n: int((values == i).sum()) for i, n in enumerate(names)}
        return {"emotion": tally(self.emotion, EMOTIONS), "age_group": tally(self.age, AGE_GROUPS),
                "gender": tally(self.gender, GENDERS)}


def read_grey(path: Path, size: int) -> np.ndarray:
    try:
        with Image.open(path) as img:
            g = img.convert("L")
            if g.size != (size, size):
                g = g.resize((size, size), Image.Resampling.LANCZOS)
            return np.asarray(g, dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"cannot read training image ({exc})") from None


def fer_files(root: Path, limit_per_class: int | None = None) -> list[tuple[Path, int]]:
    """(file, emotion index) for every image in <root>/<emotion>/; folder names may be synonyms."""
    if not root.is_dir():
        raise InputFileError(root, "not a folder (expected <root>/<emotion>/*.jpg)")
    out: list[tuple[Path, int]] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        emotion = canonical_emotion(sub.name)
        if emotion is None:
            continue
        files = sorted(f for f in sub.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        out.extend((f, EMOTIONS.index(emotion)) for f in files[:limit_per_class])
    if not out:
        raise InputFileError(root, "no images in emotion sub-folders "
                                   f"(expected folders named {', '.join(EMOTIONS)})")
    return out


def labels_path(root: Path) -> Path:
    """Where the auto labels of a data folder are cached: the moodshift cache, keyed by the
    folder's absolute path (the data folder itself is left untouched; training copies the CSV
    beside its output)."""
    from moodshift.models.store import cache_dir
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "gan-labels" / f"{key}.csv"


def read_labels(path: Path) -> dict[str, tuple[float, str, str, float]]:
    if not path.exists():
        return {}
    out: dict[str, tuple[float, str, str, float]] = {}
    try:
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                out[row["file"]] = (float(row["age"]), row["age_group"], row["gender"],
                                    float(row["p_gender"]))
    except (OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path}: unreadable label cache ({exc}); delete it to relabel") from None
    return out


def write_labels(path: Path, labels: dict[str, tuple[float, str, str, float]]) -> None:
    from moodshift.imageio import atomic_write_text

    lines = ["file,age,age_group,gender,p_gender"]
    lines += [f"{f},{a:.2f},{age_group(a)},{s},{p:.4f}"
              for f, (a, _, s, p) in sorted(labels.items())]
    atomic_write_text(path, "\n".join(lines) + "\n")


Label = tuple[float, str, str, float]   # age (years), age group, gender, p(gender)


def auto_label(images: Iterable[np.ndarray], batch: int = 128,
               progress: Callable[[int], None] | None = None) -> list[Label]:
    """(age, age_group, gender, p_gender) for grey face images, by face-api's age/gender net."""
    from moodshift.faces.agegender import INPUT_SIZE, MEAN_RGB, SCALE, FaceApiAgeGender
    from moodshift.faces.crops import face_batch

    model = FaceApiAgeGender()
    out: list[tuple[float, str, str, float]] = []
    pending: list[np.ndarray] = []

    def flush() -> None:
        if not pending:
            return
        batch_in = np.concatenate([
            face_batch(np.repeat(g[:, :, None], 3, axis=2), [(0, 0, g.shape[1], g.shape[0])],
                       INPUT_SIZE, MEAN_RGB, SCALE) for g in pending])
        ages, genders = model.raw(batch_in)
        for a, p in zip(ages, genders):
            k = int(np.argmax(p))  # face-api order: male, female
            out.append((float(a), age_group(float(a)), ("male", "female")[k], float(p[k])))
        if progress:
            progress(len(pending))
        pending.clear()

    for img in images:
        pending.append(img)
        if len(pending) >= batch:
            flush()
    flush()
    return out


def load_fer(root: Path, size: int, limit_per_class: int | None = None,
             show_progress: bool = True, log: Callable[[str], None] = print) -> FaceSet:
    """Faces and labels from a FER-style tree, auto-labelling (and caching) age and gender."""
    files = fer_files(root, limit_per_class)
    # Labels a user supplies (or a copy from an earlier run) beside the data win over the cache.
    given = root / LABELS_FILE
    cache = labels_path(root)
    known = read_labels(cache) | read_labels(given)
    keys = [str(f.relative_to(root)) for f, _ in files]
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        from tqdm import tqdm

        log(f"labelling age and gender of {len(missing)} faces with face-api "
            f"(cached in {cache})")
        bar = tqdm(total=len(missing), unit="face", disable=not show_progress)
        try:
            found = auto_label((read_grey(files[i][0], 48) for i in missing),
                               progress=bar.update)
        finally:
            bar.close()
        for i, lab in zip(missing, found):
            known[keys[i]] = lab
        write_labels(cache, known)
    images = np.stack([read_grey(f, size) for f, _ in files])
    return FaceSet(images=images,
                   emotion=np.array([e for _, e in files], dtype=np.int64),
                   # the group is re-derived from the cached age, so band changes apply
                   age=np.array([AGE_GROUPS.index(age_group(known[k][0])) for k in keys],
                                dtype=np.int64),
                   gender=np.array([GENDERS.index(known[k][2]) for k in keys], dtype=np.int64),
                   source=f"fer:{root}")


def load_celeba(root: Path, size: int, limit: int | None = None) -> FaceSet:
    """CelebA faces: ``list_attr_celeba.txt`` (Smiling, Young, Male) + ``img_align_celeba/``.

    CelebA has no expression classes: Smiling -> happy, otherwise neutral. Young -> young_adult,
    otherwise middle_aged. The aligned 178x218 crops are centre-cropped to a square around the
    face (rows 40..218 less a margin) before resizing."""
    attr = root / "list_attr_celeba.txt" if root.is_dir() else root
    folder = attr.parent / "img_align_celeba"
    if not attr.is_file():
        raise InputFileError(attr, "CelebA attribute file list_attr_celeba.txt not found")
    if not folder.is_dir():
        raise InputFileError(folder, "CelebA image folder img_align_celeba/ not found")
    try:
        lines = attr.read_text().splitlines()
        names = lines[1].split()
        col = {n: names.index(n) for n in ("Smiling", "Young", "Male")}
    except (OSError, IndexError, ValueError) as exc:
        raise InputFileError(attr, f"not a CelebA attribute file ({exc})") from None
    images, emo, age, gender = [], [], [], []
    for line in lines[2:2 + limit if limit else None]:
        parts = line.split()
        if len(parts) != len(names) + 1:
            continue
        vals = [int(v) for v in parts[1:]]
        path = folder / parts[0]
        try:
            with Image.open(path) as img:
                g = img.convert("L")
                w, h = g.size
                side = min(w, h) - 20
                top = max(0, (h - side) // 2 + 10)  # faces sit slightly below the centre
                g = g.crop(((w - side) // 2, top, (w - side) // 2 + side, top + side))
                images.append(np.asarray(g.resize((size, size), Image.Resampling.LANCZOS)))
        except OSError:
            continue
        emo.append(EMOTIONS.index("happy" if vals[col["Smiling"]] > 0 else "neutral"))
        age.append(AGE_GROUPS.index("young_adult" if vals[col["Young"]] > 0 else "middle_aged"))
        gender.append(GENDERS.index("male" if vals[col["Male"]] > 0 else "female"))
    if not images:
        raise InputFileError(attr, "no readable CelebA images listed")
    return FaceSet(np.stack(images), np.array(emo), np.array(age), np.array(gender),
                   source=f"celeba:{root}")


def load_faces(data: Path, size: int, limit_per_class: int | None = None,
               show_progress: bool = True, log: Callable[[str], None] = print) -> FaceSet:
    """Either source, chosen by what the path holds."""
    if (data / "list_attr_celeba.txt").is_file() or data.name == "list_attr_celeba.txt":
        return load_celeba(data, size, None if limit_per_class is None else 7 * limit_per_class)
    return load_fer(data, size, limit_per_class, show_progress, log)
