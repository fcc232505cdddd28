"""Compare what moodshift intended each image to express with what people rated.

Intent comes from the image's moodshift metadata (written by stylize, generate and evolve and
copied into the database when the image was served): an emotion (a blend like
"happy:0.70,sad:0.30" counts as its heaviest component) and target_vad in -1..1. An image with an
emotion but no target_vad uses that emotion's coordinates from moodshift.emotions. SAM ratings
(1..9) are mapped to -1..1 with (score - 5) / 4 before they are compared with targets.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTION_VAD, EMOTIONS, EmotionMix
from moodshift.errors import UserError
from moodshift.imageio import atomic_write_bytes
from moodshift.rate.db import RatedImage, Rating
from moodshift.rate.stats import (
    Correlation,
    krippendorff_alpha_interval,
    krippendorff_alpha_nominal,
    pearson,
    sam_to_unit,
)

DIMS = ("valence", "arousal", "dominance")


def intended_emotion(intent: dict[str, object]) -> str | None:
    """The intended emotion, or for a blend ("happy:0.70,sad:0.30") its heaviest component."""
    label = intent.get("emotion")
    if not isinstance(label, str) or not label.strip():
        return None
    return EmotionMix.parse(label, lenient=True).heaviest


def intended_vad(intent: dict[str, object]) -> dict[str, float] | None:
    """target_vad from the metadata (each value in -1..1), else the intended emotion's VAD."""
    target = intent.get("target_vad")
    if isinstance(target, dict):
        try:
            values = {d: float(target[d]) for d in DIMS}
        except (KeyError, TypeError, ValueError):
            values = None
        if values and all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in values.values()):
            return values
    emotion = intended_emotion(intent)
    if emotion is None:
        return None
    return dict(zip(DIMS, EMOTION_VAD[emotion].as_tuple()))


def _r4(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 4)


@dataclass
class ImageSummary:
    """Per-image ratings: n, mean and sample SD on the SAM 1..9 scale, labels given."""

    image: RatedImage
    n: int
    mean: dict[str, float | None]
    sd: dict[str, float | None]
    labels: dict[str, int]
    intended_emotion: str | None
    intended_vad: dict[str, float] | None

    @property
    def label_agreement(self) -> float | None:
        given = sum(self.labels.values())
        if not given or self.intended_emotion is None:
            return None
        return self.labels.get(self.intended_emotion, 0) / given

    def rated_unit(self, dim: str) -> float | None:
        m = self.mean[dim]
        return None if m is None else sam_to_unit(m)

    def to_json(self) -> dict[str, object]:
        return {"hash": self.image.hash, "name": self.image.name,
                "tool": self.image.intent.get("tool"),
                "intended_emotion": self.intended_emotion,
                "intended_vad": self.intended_vad, "n": self.n,
                "mean": {d: _r4(v) for d, v in self.mean.items()},
                "sd": {d: _r4(v) for d, v in self.sd.items()},
                "rated_vad": {d: _r4(self.rated_unit(d)) for d in DIMS},
                "labels": self.labels, "label_agreement": _r4(self.label_agreement)}


@dataclass
class EmotionAgreement:
    """How often raters' labels matched the intended emotion, over all labelled ratings."""

    emotion: str
    images: int
    labelled: int
    matching: int
    rated_as: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        share = self.matching / self.labelled if self.labelled else None
        return {"emotion": self.emotion, "images": self.images, "labelled": self.labelled,
                "matching": self.matching, "agreement": _r4(share), "rated_as": self.rated_as}


@dataclass
class RatingReport:
    db: str
    raters: dict[str, int]
    images: list[ImageSummary]
    correlation: dict[str, Correlation]
    emotion_agreement: list[EmotionAgreement]
    inter_rater_alpha: dict[str, float | None]

    @property
    def n_ratings(self) -> int:
        return sum(self.raters.values())

    def to_json(self) -> dict[str, object]:
        return {"db": self.db, "ratings": self.n_ratings, "raters": self.raters,
                "scale": "SAM 1..9; rated_vad = (mean - 5) / 4 in -1..1",
                "correlation": {d: c.to_json() for d, c in self.correlation.items()},
                "emotion_agreement": [e.to_json() for e in self.emotion_agreement],
                "inter_rater": {"method": "Krippendorff's alpha (interval for SAM scales, "
                                          "nominal for emotion labels)",
                                "alpha": {k: _r4(v) for k, v in self.inter_rater_alpha.items()}},
                "images": [s.to_json() for s in self.images]}


def summarize(images: list[RatedImage], ratings: list[Rating], db: str = "") -> RatingReport:
    by_image: dict[str, list[Rating]] = {img.hash: [] for img in images}
    raters: dict[str, int] = {}
    for r in ratings:
        by_image.setdefault(r.image, []).append(r)
        raters[r.rater] = raters.get(r.rater, 0) + 1
    summaries = []
    for img in images:
        rs = by_image[img.hash]
        mean: dict[str, float | None] = {}
        sd: dict[str, float | None] = {}
        for d in DIMS:
            values = np.array([getattr(r, d) for r in rs], dtype=np.float64)
            mean[d] = float(values.mean()) if values.size else None
            sd[d] = float(values.std(ddof=1)) if values.size >= 2 else None
        labels: dict[str, int] = {}
        for r in rs:
            if r.emotion:
                labels[r.emotion] = labels.get(r.emotion, 0) + 1
        summaries.append(ImageSummary(img, len(rs), mean, sd, labels,
                                      intended_emotion(img.intent), intended_vad(img.intent)))

    correlation = {}
    for d in DIMS:
        pairs = [(s.intended_vad[d], s.rated_unit(d)) for s in summaries
                 if s.intended_vad is not None and s.n]
        correlation[d] = pearson([p[0] for p in pairs], [p[1] for p in pairs])

    agreement = []
    for e in EMOTIONS:
        group = [s for s in summaries if s.intended_emotion == e]
        if not group:
            continue
        rated_as: dict[str, int] = {}
        for s in group:
            for label, count in s.labels.items():
                rated_as[label] = rated_as.get(label, 0) + count
        agreement.append(EmotionAgreement(e, len(group), sum(rated_as.values()),
                                          rated_as.get(e, 0), dict(sorted(rated_as.items()))))

    alpha = {d: krippendorff_alpha_interval([[getattr(r, d) for r in by_image[h]]
                                             for h in by_image]) for d in DIMS}
    alpha["emotion"] = krippendorff_alpha_nominal(
        [[r.emotion for r in by_image[h] if r.emotion] for h in by_image])
    return RatingReport(db, dict(sorted(raters.items())), summaries, correlation, agreement,
                        alpha)


CSV_COLUMNS = ["hash", "name", "tool", "intended_emotion", "intended_valence",
               "intended_arousal", "intended_dominance", "n",
               "valence_mean", "valence_sd", "arousal_mean", "arousal_sd",
               "dominance_mean", "dominance_sd", "rated_valence", "rated_arousal",
               "rated_dominance", "labels", "label_agreement"]


def report_csv(report: RatingReport) -> str:
    """One row per image; means/SDs on the SAM 1..9 scale, rated_* mapped to -1..1."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in report.images:
        row = s.to_json()
        iv = s.intended_vad or {}
        writer.writerow([s.image.hash, s.image.name, row["tool"] or "", s.intended_emotion or "",
                         *(_cell(iv.get(d)) for d in DIMS), s.n,
                         *(c for d in DIMS for c in (_cell(s.mean[d]), _cell(s.sd[d]))),
                         *(_cell(s.rated_unit(d)) for d in DIMS),
                         ";".join(f"{k}={v}" for k, v in sorted(s.labels.items())),
                         _cell(s.label_agreement)])
    return out.getvalue()


def _cell(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


def write_plots(report: RatingReport, folder: Path) -> list[Path]:
    """intended_vs_rated.png (scatter per dimension) and emotion_agreement.png (confusion)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    for ax, d in zip(axes, DIMS):
        pts = [(s.intended_vad[d], s.rated_unit(d), (s.sd[d] or 0.0) / 4.0)
               for s in report.images if s.intended_vad is not None and s.n]
        if pts:
            x, y, err = map(np.array, zip(*pts))
            ax.errorbar(x, y, yerr=err, fmt="o", ms=5, capsize=3, alpha=0.8)
        ax.plot([-1, 1], [-1, 1], "--", color="grey", lw=1)
        c = report.correlation[d]
        ax.set_title(f"{d}: r = {c.r:.2f} (n={c.n})" if c.r is not None else f"{d}: n={c.n}")
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("intended (target_vad)")
        ax.set_ylabel("rated mean, (SAM - 5) / 4")
    fig.tight_layout()
    written.append(_save_figure(fig, folder / "intended_vs_rated.png"))

    fig, ax = plt.subplots(figsize=(6.5, 5))
    rows = [e.emotion for e in report.emotion_agreement]
    matrix = np.array([[e.rated_as.get(c, 0) / e.labelled if e.labelled else 0.0
                        for c in EMOTIONS] for e in report.emotion_agreement]).reshape(-1, 7)
    ax.imshow(matrix if rows else np.zeros((1, 7)), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(7), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(len(rows)):
        for j in range(7):
            ax.text(j, i, f"{matrix[i, j]:.0%}", ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > 0.5 else "black")
    ax.set_xlabel("label given by raters")
    ax.set_ylabel("intended emotion")
    ax.set_title("emotion label agreement" if rows else "no images with an intended emotion")
    fig.tight_layout()
    written.append(_save_figure(fig, folder / "emotion_agreement.png"))
    return written


def _save_figure(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def format_text(report: RatingReport) -> str:
    lines = [f"{report.db}: {report.n_ratings} rating(s) from {len(report.raters)} rater(s), "
             f"{len(report.images)} image(s)"]
    if not report.n_ratings:
        return lines[0] + "; nothing rated yet"
    lines.append("intended vs rated (Pearson r over images, 95% CI):")
    for d, c in report.correlation.items():
        ci = f" [{c.ci95[0]:+.2f}, {c.ci95[1]:+.2f}]" if c.ci95 else ""
        lines.append(f"  {d:9} r = {c.r:+.2f}{ci} (n={c.n})" if c.r is not None
                     else f"  {d:9} r undefined (n={c.n}: needs 3+ images with intent and spread)")
    alpha = ", ".join(f"{k} {v:.2f}" if v is not None else f"{k} -"
                      for k, v in report.inter_rater_alpha.items())
    lines.append(f"inter-rater Krippendorff's alpha: {alpha}")
    for e in report.emotion_agreement:
        share = f"{e.matching / e.labelled:.0%}" if e.labelled else "-"
        lines.append(f"  intended {e.emotion:8} {e.images} image(s), {e.labelled} label(s), "
                     f"agreement {share}")
    lines.append(f"{'image':28} {'intended':9} {'n':>3}  valence     arousal     dominance")
    for s in report.images:
        cells = "  ".join(_mean_sd(s.mean[d], s.sd[d]) for d in DIMS)
        lines.append(f"{s.image.name[:28]:28} {s.intended_emotion or '-':9} {s.n:3}  {cells}")
    return "\n".join(lines)


def _mean_sd(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return f"{'-':>10}"
    return f"{mean:4.1f}±{sd:4.2f}" if sd is not None else f"{mean:4.1f}      "


def ratings_csv(ratings: list[Rating], images: list[RatedImage]) -> str:
    """Every rating as stored (one row per rater and image), for analysis elsewhere."""
    names = {img.hash: img.name for img in images}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rater", "image_hash", "image_name", "valence", "arousal", "dominance",
                     "emotion", "created_at"])
    for r in ratings:
        writer.writerow([r.rater, r.image, names.get(r.image, ""), r.valence, r.arousal,
                         r.dominance, r.emotion or "", r.created_at])
    return out.getvalue()


@dataclass(frozen=True)
class ReportRequest:
    """`moodshift rate report`: the database and where to write the CSVs and plots."""

    db: Path
    csv: Path | None = None
    ratings_csv: Path | None = None
    plots: Path | None = None

    def check(self) -> None:
        """Check every output location first: a bad one fails before anything is written."""
        from moodshift.imageio import check_writable_dir

        for path in (self.csv, self.ratings_csv):
            if path is not None:
                if path.is_dir():
                    raise UserError(f"{path}: is a folder, expected a CSV file name")
                # Only .csv names: a slip like `--csv study/img.png` must not overwrite an input.
                if path.suffix.lower() != ".csv":
                    raise UserError(f"{path}: expected a file name ending in .csv")
                check_writable_dir(path.parent if str(path.parent) else Path("."))
        if self.csv is not None and self.ratings_csv is not None \
                and self.csv.resolve() == self.ratings_csv.resolve():
            raise UserError(f"{self.csv}: --csv and --ratings-csv must be different files")
        if self.plots is not None:
            check_writable_dir(self.plots)
        if self.db.resolve() in {p.resolve() for p in (self.csv, self.ratings_csv) if p}:
            raise UserError(f"{self.db}: refusing to overwrite the database with a CSV")


def make_report(request: ReportRequest) -> tuple[RatingReport, list[Path]]:
    """Summarise the ratings and write the asked-for files; returns the report and the files
    written (CSVs, then plots)."""
    from moodshift.imageio import atomic_write_text
    from moodshift.rate.db import RatingStore

    request.check()
    store = RatingStore(request.db, create=False)
    images, ratings = store.images(), store.ratings()
    report = summarize(images, ratings, str(request.db))
    if request.csv is not None:
        atomic_write_text(request.csv, report_csv(report))
    if request.ratings_csv is not None:
        atomic_write_text(request.ratings_csv, ratings_csv(ratings, images))
    plots = write_plots(report, request.plots) if request.plots is not None else []
    return report, [p for p in (request.csv, request.ratings_csv) if p is not None] + plots
