"""Folders of images rated by people: ``ratings.csv`` beside the images, in one of two layouts.

* OASIS layout (Kurdi, Lozano & Banaji 2017): ``image, valence_mean, arousal_mean`` on 1-7
  (other columns such as SDs, counts and themes are ignored).
* Emotion6 layout (Peng et al. 2015): ``image, valence, arousal`` on 1-9 and the share of raters
  choosing each emotion, ``p_angry ... p_neutral`` (moodshift's seven names), summing to 1.

Images are looked up in ``<folder>/images/`` when that exists, else in the folder itself. Ratings
are mapped linearly to [-1, 1] (the scale's midpoint to 0). Every problem is one InputFileError
naming the file and the row (the header is row 1).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import InputFileError

RATINGS_FILE = "ratings.csv"
P_COLUMNS = tuple(f"p_{e}" for e in EMOTIONS)
SHARE_TOLERANCE = 0.02     # the shares of one image may miss 1 by rounding


@dataclass(frozen=True)
class Layout:
    name: str
    valence: str
    arousal: str
    low: float
    high: float
    emotions: bool

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        mid, half = (self.low + self.high) / 2, (self.high - self.low) / 2
        return (np.asarray(x, dtype=np.float64) - mid) / half


OASIS = Layout("oasis", "valence_mean", "arousal_mean", 1.0, 7.0, emotions=False)
EMOTION6 = Layout("emotion6", "valence", "arousal", 1.0, 9.0, emotions=True)
LAYOUTS = (OASIS, EMOTION6)


@dataclass
class RatedImages:
    """A rated folder: image paths and the mean human ratings, valence/arousal in [-1, 1]."""

    folder: Path
    layout: Layout
    paths: list[Path]
    valence: np.ndarray          # (n,)
    arousal: np.ndarray          # (n,)
    emotions: np.ndarray | None  # (n, 7) rater shares, EMOTIONS order; None for OASIS layout

    @property
    def name(self) -> str:
        return self.folder.name

    def __len__(self) -> int:
        return len(self.paths)

    def groups(self) -> list[str]:
        """A content hash per image: the same picture under two names is one group."""
        out = []
        for path in self.paths:
            out.append(hashlib.sha1(path.read_bytes()).hexdigest())
        return out


def _layout_of(header: list[str], csv_path: Path) -> Layout:
    cols = set(header)
    if "image" not in cols:
        raise InputFileError(csv_path, "row 1: no 'image' column")
    if {OASIS.valence, OASIS.arousal} <= cols:
        return OASIS
    if {EMOTION6.valence, EMOTION6.arousal} <= cols:
        missing = [c for c in P_COLUMNS if c not in cols]
        if missing:
            raise InputFileError(csv_path, f"row 1: 1-9 valence/arousal layout needs the columns "
                                           f"{', '.join(missing)}")
        return EMOTION6
    raise InputFileError(csv_path, "row 1: missing columns: need either valence_mean and "
                                   "arousal_mean (1-7) or valence, arousal (1-9) and "
                                   + ", ".join(P_COLUMNS))


def _number(text: str | None, column: str, csv_path: Path, row: int) -> float:
    try:
        value = float(text) if text not in (None, "") else float("nan")
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        raise InputFileError(csv_path, f"row {row}: {column} is {text!r}, not a number")
    return value


def read_rated_folder(folder: str | Path) -> RatedImages:
    """Read ``<folder>/ratings.csv`` and check every listed image exists and every value is on
    its scale."""
    folder = Path(folder)
    csv_path = folder / RATINGS_FILE
    if not csv_path.is_file():
        raise InputFileError(folder, f"no {RATINGS_FILE} in this folder")
    image_dir = folder / "images" if (folder / "images").is_dir() else folder
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            layout = _layout_of(list(reader.fieldnames or []), csv_path)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError(csv_path, f"cannot read ({exc})") from None
    if not rows:
        raise InputFileError(csv_path, "no rated images listed")
    paths: list[Path] = []
    val, aro, emo = [], [], []
    seen: set[str] = set()
    for row_no, row in enumerate(rows, start=2):
        name = (row.get("image") or "").strip()
        if not name:
            raise InputFileError(csv_path, f"row {row_no}: empty image name")
        if name in seen:
            raise InputFileError(csv_path, f"row {row_no}: image {name} is listed twice")
        seen.add(name)
        path = image_dir / name
        if not path.is_file():
            raise InputFileError(csv_path, f"row {row_no}: image {name} not found in {image_dir}")
        values = []
        for column in (layout.valence, layout.arousal):
            v = _number(row.get(column), column, csv_path, row_no)
            if not layout.low <= v <= layout.high:
                raise InputFileError(csv_path, f"row {row_no}: {column} {v:g} is outside "
                                               f"{layout.low:g}-{layout.high:g}")
            values.append(v)
        if layout.emotions:
            shares = [_number(row.get(c), c, csv_path, row_no) for c in P_COLUMNS]
            bad = [c for c, s in zip(P_COLUMNS, shares) if not 0.0 <= s <= 1.0]
            if bad:
                raise InputFileError(csv_path, f"row {row_no}: {bad[0]} is outside 0-1")
            if abs(sum(shares) - 1.0) > SHARE_TOLERANCE:
                raise InputFileError(csv_path, f"row {row_no}: the p_* shares sum to "
                                               f"{sum(shares):.3f}, not 1")
            emo.append(shares)
        paths.append(path)
        val.append(values[0])
        aro.append(values[1])
    emotions = None
    if layout.emotions:
        e = np.asarray(emo, dtype=np.float64)
        emotions = e / e.sum(axis=1, keepdims=True)
    return RatedImages(folder, layout, paths, layout.to_unit(val), layout.to_unit(aro), emotions)
