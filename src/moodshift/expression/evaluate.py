"""``moodshift eval expression``: accuracy of an expression classifier on labelled faces.

Images no larger than FACE_CROP_MAX (100 px) on their longer side are taken to be face crops
(FER2013's are 48x48) and classified whole. Larger photos go through the face detector first and
the largest face is classified; when no face is found the whole photo is classified and the
image is counted in ``faces_not_found``.

Data: any layout ``moodshift.expression.training.datasets`` reads. By default a data set with its own
split is evaluated on its validation part (FER2013's ``val`` = its public test), and anything
else on every image.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.expression.base import ExpressionModel
from moodshift.expression.training.datasets import ImageSet, load_splits, read_dataset

FACE_CROP_MAX = 100
SPLITS = ("auto", "val", "test", "train", "all")


@dataclass
class EvalReport:
    model: str
    confusion: np.ndarray                    # (7, 7): rows true, columns predicted
    data: str = ""
    faces_not_found: int = 0
    seconds: float = 0.0
    probabilities: np.ndarray | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.n) if self.n else 0.0

    def recall(self) -> dict[str, float | None]:
        rows = self.confusion.sum(1)
        return {e: (float(self.confusion[i, i] / rows[i]) if rows[i] else None)
                for i, e in enumerate(EMOTIONS)}

    def precision(self) -> dict[str, float | None]:
        cols = self.confusion.sum(0)
        return {e: (float(self.confusion[i, i] / cols[i]) if cols[i] else None)
                for i, e in enumerate(EMOTIONS)}

    @property
    def macro_recall(self) -> float:
        vals = [v for v in self.recall().values() if v is not None]
        return float(np.mean(vals)) if vals else 0.0

    def to_json(self) -> dict[str, object]:
        rec, prec = self.recall(), self.precision()
        rows = self.confusion.sum(1)
        return {
            "model": self.model, "n": self.n, "accuracy": round(self.accuracy, 6),
            "macro_recall": round(self.macro_recall, 6),
            "per_class": {e: {"n": int(rows[i]),
                              "recall": None if rec[e] is None else round(rec[e], 6),
                              "precision": None if prec[e] is None else round(prec[e], 6)}
                          for i, e in enumerate(EMOTIONS)},
            "confusion": self.confusion.astype(int).tolist(),
            "data": self.data, "faces_not_found": self.faces_not_found,
        }

    def to_text(self) -> str:
        lines = [f"model {self.model} on {self.data}: n = {self.n}, accuracy "
                 f"{self.accuracy:.2%}, macro recall {self.macro_recall:.2%}"
                 + (f", no face found in {self.faces_not_found}" if self.faces_not_found else "")]
        lines.append(f"{'':10s}" + "".join(f"{e[:7]:>8s}" for e in EMOTIONS) + "  recall")
        for i, e in enumerate(EMOTIONS):
            r = self.recall()[e]
            lines.append(f"{e:10s}" + "".join(f"{int(v):8d}" for v in self.confusion[i])
                         + (f"  {r:6.1%}" if r is not None else "       -"))
        return "\n".join(lines)


def _as_rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def evaluate(model: ExpressionModel, dataset: ImageSet, detector: object | None = None,
             progress: bool = False) -> EvalReport:
    """Classify every image of ``dataset`` (see the module docstring) and tally the results."""
    import time

    t0 = time.time()
    n = len(dataset)
    probs = np.zeros((n, len(EMOTIONS)), dtype=np.float64)
    not_found = 0
    fast = hasattr(model, "prepare") and hasattr(model, "predict_crops")
    crops: list[np.ndarray] = []
    items = range(n)
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc=f"eval {model.name}", unit="img", file=sys.stderr,
                     leave=False)
    for i in items:
        img = dataset.images[i]
        h, w = img.shape[:2]
        box = (0, 0, w, h)
        if max(h, w) > FACE_CROP_MAX:
            if detector is None:
                from moodshift.faces.detect import load_detector

                detector = load_detector("auto")
            faces = detector.detect(_as_rgb(img))  # type: ignore[attr-defined]
            if faces:
                box = tuple(int(v) for v in max(faces, key=lambda d: d.area).box)
            else:
                not_found += 1
        rgb = _as_rgb(img)
        if fast:
            crops.append(model.prepare(rgb, [box])[0])  # type: ignore[attr-defined]
        else:
            probs[i] = model.predict(rgb, [box])[0]
    if fast and crops:
        probs = model.predict_crops(np.stack(crops))  # type: ignore[attr-defined]
    preds = probs.argmax(1)
    cm = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=np.int64)
    np.add.at(cm, (dataset.labels, preds), 1)
    return EvalReport(model.name, cm, dataset.source, not_found, time.time() - t0, probs)


def load_eval_set(path: str | Path, split: str = "auto") -> ImageSet:
    """The images to evaluate: ``val`` / ``test`` / ``train`` of a split data set, or ``all``."""
    if split == "all":
        return read_dataset(path, size=None)
    p = Path(path)
    if split == "auto":
        from moodshift.expression.training.datasets import split_dirs

        has_split = (p.is_dir() and bool(split_dirs(p))) or p.suffix.lower() == ".csv"
        if not has_split:
            return read_dataset(path, size=None)
        split = "val"
    splits = load_splits(path, size=None)
    chosen = {"train": splits.train, "val": splits.val, "test": splits.test}.get(split)
    if chosen is None:
        raise UserError(f"{path}: has no {split} split")
    return chosen


def evaluate_named(data: str | Path, model: str = "moodshift", split: str = "auto",
                   detector: str = "auto", progress: bool = False,
                   log: Callable[[str], None] = lambda m: print(m, file=sys.stderr,
                                                             flush=True)) -> EvalReport:
    """``moodshift eval expression``: the named model on a data set's chosen part (a note on
    skipped or missing images goes to log)."""
    from moodshift.expression.load import load_expression_model

    dataset = load_eval_set(data, split)
    if dataset.skipped or dataset.missing:
        sys.stdout.flush()
        log(f"note: {dataset.report()}")
    classifier = load_expression_model(model)
    face_detector = None
    if any(max(im.shape[:2]) > FACE_CROP_MAX for im in dataset.images):
        from moodshift.faces.detect import load_detector

        face_detector = load_detector(detector)
    return evaluate(classifier, dataset, face_detector, progress=progress)
