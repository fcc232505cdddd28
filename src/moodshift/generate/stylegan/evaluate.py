"""``moodshift eval gan --generator stylegan``: are the steered portraits read as asked?

* n portraits, split evenly over the seven emotions; face i also asks for an age group and a
  gender (cycled so every combination appears), all steered together as ``generate`` does,
  rendered at 1024 px end to end (sampling, steering, synthesis) and timed.
* Emotion: read by ``judge`` (default fer, which neither labelled the training faces nor
  calibrated the directions: those were msnet and face-api) on the face-api SSD box of the
  256 px downscale. Share read as asked, per emotion and overall (chance 1/7).
* Age group and gender: read by FaceRes (npm ``@vladmandic/human``; moodshift.faces.faceres),
  which took no part in labelling or calibrating the directions, so these figures are
  independent. face-api's age/gender net labelled the faces the directions were fit to: its
  reading is reported beside, marked ``dependent``. Without FaceRes pulled only the dependent
  figures exist and the JSON says so.
* Faces: share of portraits in which the SSD detector finds exactly one face.
* Diversity: mean pairwise Euclidean distance of face descriptors among the portraits of each
  emotion, averaged over emotions. Descriptor: FaceRes's pooled 1024-d face-recognition
  features, L2-normalised (without FaceRes: the 512-d pooled features of face-api's age/gender
  backbone; the JSON names the space).
* Identity (``--same-person``): ``identities`` seeds each rendered in all seven emotions; mean
  descriptor distance between the seven emotions of one identity vs between different
  identities showing the same emotion (ratio < 1: the person is kept).
* Speed: seconds per 1024 px portrait and the process's peak resident memory.
* Candidates: each portrait is the best of ``candidates`` identities as ``generate`` draws it,
  chosen by the labelling models and MediaPipe's face mesh (choose.py); fer, FaceRes and the SSD
  face count take no part in the choice. face-api's age/gender figures are doubly dependent.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.faces.agegender import NAME as LABEL_AGE_GENDER
from moodshift.generate.gan.data import age_group
from moodshift.generate.gan.evaluate import mean_pairwise_distance
from moodshift.generate.stylegan.choose import (
    DEFAULT_CANDIDATES,
    DEFAULT_MORE_CANDIDATES,
    check_candidates,
)
from moodshift.generate.stylegan.generator import DEFAULT_PSI, NATIVE_SIZE, resize
from moodshift.generate.stylegan.labels import LABEL_JUDGES, LABEL_SIZE
from moodshift.people import AGE_GROUPS, GENDERS

TARGETS = {"emotion_overall": 0.70, "emotion_each": 0.40, "age_group": 0.80, "gender": 0.95,
           "one_face": 0.99, "seconds_per_portrait": 2.0}


@dataclass
class StyleEval:
    judge: str
    judge_independent: bool
    n: int
    psi: float
    per_emotion: dict[str, float]
    overall: float
    age_group_accuracy: float
    gender_accuracy: float
    age_mae_years: float
    age_gender_judge: str
    age_gender_independent: bool
    dependent_age_gender: dict[str, float]
    by_age_group_read: dict[str, dict[str, float]]
    feature_space: str
    one_face: float
    diversity: float
    seconds_per_portrait: float
    peak_memory_mb: float
    identity: dict[str, float] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    candidates: int = 1
    more_candidates: int = 0
    more_by_emotion: dict[str, int] = field(default_factory=dict)   # MORE_FACTOR applied
    mean_candidates_drawn: float = 1.0
    # portraits where the detector did not find exactly one face: "emotion/age/gender: n faces"
    one_face_misses: list[str] = field(default_factory=list)
    styled: bool = False          # judged after generate's styling (portraits.style_portrait)

    def to_json(self) -> dict[str, object]:
        r4 = lambda v: round(float(v), 4)  # noqa: E731
        return {"generator": "stylegan", "styled": self.styled, "judge": self.judge,
                "judge_independent": self.judge_independent, "n": self.n,
                "truncation": self.psi,
                "candidates": {"per_portrait": self.candidates,
                               "more_at_most": self.more_candidates,
                               "more_at_most_by_emotion": {
                                   e: m for e, m in self.more_by_emotion.items()
                                   if m != self.more_candidates},
                               "mean_drawn": round(self.mean_candidates_drawn, 3),
                               "chosen_by": "face-api Tiny detector finding one face first "
                                            "(a face it misses is drawn again with a shorter "
                                            "emotion move), then the asked things read as "
                                            "asked and the summed scores of msnet + face-api "
                                            "expression, face-api age/gender, face mesh "
                                            "presence; more candidates drawn while none is "
                                            "read as asked (labelling models; none of the "
                                            "counted judges)"},
                "agreement": {k: r4(v) for k, v in self.per_emotion.items()},
                "overall": r4(self.overall), "chance": round(1 / len(EMOTIONS), 4),
                "confusion": self.confusion,
                "age_group_accuracy": r4(self.age_group_accuracy),
                "gender_accuracy": r4(self.gender_accuracy),
                "age_mae_years": round(self.age_mae_years, 2),
                "age_gender_judge": self.age_gender_judge,
                "age_gender_independent": self.age_gender_independent,
                "by_asked_age_group": {g: {k: round(v, 3) for k, v in row.items()}
                                       for g, row in self.by_age_group_read.items()},
                "dependent_age_gender": {
                    "judge": f"{LABEL_AGE_GENDER} (dependent: it labelled the directions' "
                             "training faces)",
                    **{k: r4(v) for k, v in self.dependent_age_gender.items()}},
                "one_face_detected": r4(self.one_face), "one_face_misses": self.one_face_misses,
                "diversity": r4(self.diversity),
                "feature_space": self.feature_space,
                "identity": {k: r4(v) for k, v in self.identity.items()},
                "emotion_paths": self.paths,
                "seconds_per_portrait_1024": round(self.seconds_per_portrait, 3),
                "peak_memory_mb": round(self.peak_memory_mb, 1), "targets": TARGETS}


IDENTITY_SEED_OFFSET = 7919   # the same-person identities come from their own seeds


@dataclass(frozen=True)
class StyleEvalRequest:
    """What `moodshift eval gan --generator stylegan` measures; check() before any work."""

    n: int = 700
    judge: str = "fer"
    seed: int = 0
    psi: float = DEFAULT_PSI
    identities: int = 4
    directions: object = None        # Path | None: None for the shipped directions
    expression_edit: bool = True     # expression-edit the EDITED_EMOTIONS (portraits.py)
    candidates: int = DEFAULT_CANDIDATES  # identities drawn per portrait, the best kept
    more_candidates: int = DEFAULT_MORE_CANDIDATES  # at most, while none is read as asked
    # judge the portraits as generate writes them, styled for their emotion (face-aware);
    # the identity figure and the seconds per portrait stay those of the drawn faces
    styled: bool = False
    log: object = None               # Path | None: JSONL of finished portraits; resumes from it

    def check(self) -> None:
        from moodshift.generate.gan.evaluate import MAX_EVAL_N, MIN_EVAL_N

        if self.log is not None:  # before any model loads: a log that cannot be written
            from moodshift.imageio import check_writable_dir
            log = Path(self.log)  # type: ignore[arg-type]
            if log.is_dir():
                raise UserError(f"--log {log}: is a folder; give a file name (e.g. eval.jsonl)")
            check_writable_dir(log.parent if str(log.parent) else Path("."))

        if not MIN_EVAL_N <= self.n <= MAX_EVAL_N:
            raise UserError(f"--n {self.n}: must be between {MIN_EVAL_N} and {MAX_EVAL_N}")
        if not 0.0 <= self.psi <= 1.0:
            raise UserError(f"--truncation {self.psi}: must be between 0 and 1")
        if not (self.identities == 0 or 2 <= self.identities <= 50):
            raise UserError(f"--identities {self.identities}: must be 0 or 2..50")
        check_candidates(self.candidates, self.more_candidates)
        from moodshift.seeds import SEED_MAX, check_seed

        check_seed(self.seed, "--seed")
        if self.identities >= 2 and self.seed > SEED_MAX - IDENTITY_SEED_OFFSET:
            raise UserError(f"--seed {self.seed}: must be at most "
                            f"{SEED_MAX - IDENTITY_SEED_OFFSET} here (the identities are drawn "
                            f"from seed + {IDENTITY_SEED_OFFSET})")


def run_style_eval(request: StyleEvalRequest, show_progress: bool = True) -> StyleEval:
    request.check()
    return evaluate_stylegan(n=request.n, judge=request.judge, seed=request.seed,
                             psi=request.psi, identities=request.identities,
                             directions=request.directions, expression_edit=request.expression_edit,
                             candidates=request.candidates,
                             more_candidates=request.more_candidates,
                             styled=request.styled, show_progress=show_progress,
                             log=request.log)


# A portrait's readings in the --log file: what the summary needs, so a resumed run's figures
# equal an uninterrupted run's (JSON keeps every float exactly).
LOGGED = ("i", "read", "age", "gender", "dep_age", "dep_gender", "faces", "feat", "drawn",
          "seconds")


def read_eval_log(path: Path, settings: dict[str, object]) -> dict[int, dict[str, object]]:
    """The portraits a previous run with the same settings finished, by index; a new log gets
    the settings as its first line."""
    from moodshift.resume_log import append_record, read_records

    records = read_records(path, "a portrait")
    if not records:
        append_record(path, {"eval_gan_settings": settings})
        return {}
    number, first = records[0]
    logged = first.get("eval_gan_settings")
    if not isinstance(logged, dict):
        raise UserError(f"{path}: line {number}: not an eval gan log (use another --log file)")
    if logged != settings:
        differ = sorted(k for k in settings.keys() | logged.keys()
                        if logged.get(k) != settings.get(k))
        raise UserError(f"{path}: logged by a run with other settings ({', '.join(differ)}); "
                        "give the same options or another --log file")
    done = {}
    for number, record in records[1:]:
        if any(k not in record for k in LOGGED):
            raise UserError(f"{path}: line {number}: not a portrait this command logged "
                            "(use another --log file)")
        done[int(record["i"])] = record  # type: ignore[arg-type]
    return done


class FaceApiDescriptor:
    """Pooled 512-d features of face-api's age/gender backbone (used when FaceRes is absent)."""

    space = "face-api age/gender backbone, pooled 512-d"

    def __init__(self) -> None:
        from moodshift.faces.agegender_net import build
        from moodshift.models.store import load_tensors

        self.net = build(load_tensors("faceapi-agegender"))

    def __call__(self, face: np.ndarray, box) -> np.ndarray:
        import torch

        from moodshift.faces.agegender import INPUT_SIZE, MEAN_RGB, SCALE
        from moodshift.faces.crops import face_batch, to_nchw

        x = to_nchw(face_batch(face, [box], INPUT_SIZE, MEAN_RGB, SCALE))
        with torch.inference_mode():
            return self.net.backbone(torch.from_numpy(x))[0].double().numpy()


class FaceResDescriptor:
    """FaceRes's L2-normalised 1024-d face-recognition descriptor."""

    space = "FaceRes (HSE) face-recognition descriptor, 1024-d, L2-normalised"

    def __init__(self, model) -> None:
        self.model = model

    def __call__(self, face: np.ndarray, box) -> np.ndarray:
        return self.model.describe(face, [box])[0]


def peak_memory_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def eval_asks(n: int) -> list[tuple[str, str, str]]:
    """The (emotion, age group, gender) of each of ``n`` portraits: split evenly over the
    emotions in order, each emotion's portraits cycling through the age groups and, every five,
    the genders."""
    per = n // len(EMOTIONS)
    counts = [per + (1 if i < n - per * len(EMOTIONS) else 0) for i in range(len(EMOTIONS))]
    return [(e, AGE_GROUPS[i % len(AGE_GROUPS)], GENDERS[(i // len(AGE_GROUPS)) % 2])
            for e, k in zip(EMOTIONS, counts) for i in range(k)]


def evaluate_stylegan(n: int = 700, judge: str = "fer", seed: int = 0, psi: float = DEFAULT_PSI,
                      identities: int = 4, directions=None, expression_edit: bool = True,
                      candidates: int = DEFAULT_CANDIDATES,
                      more_candidates: int = DEFAULT_MORE_CANDIDATES,
                      styled: bool = False, show_progress: bool = True,
                      log: Path | None = None) -> StyleEval:
    from tqdm import tqdm

    from moodshift.expression.load import load_expression_model
    from moodshift.faces.agegender import FaceApiAgeGender
    from moodshift.faces.detect import load_detector
    from moodshift.faces.faceres import load_if_pulled
    from moodshift.generate.stylegan.choose import (
        Ask,
        candidate_rows,
        candidates_at_most,
        choose,
        load_candidate_reader,
    )
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.generator import load_style_generator
    from moodshift.generate.stylegan.labels import centre_box
    from moodshift.generate.stylegan.portraits import (
        SteeredPortraitRequest,
        emotion_path,
        face_drawer,
        style_portrait,
    )
    from moodshift.resume_log import append_record

    d = load_directions(directions)
    gen = load_style_generator()
    judge_model = load_expression_model(judge)
    detector = load_detector("ssd")
    reader = load_candidate_reader() if candidates > 1 else None
    # the chooser's face-api age/gender net is the labelling one: load it once
    labelling_agegender = reader.agegender if reader else FaceApiAgeGender()
    faceres = load_if_pulled()
    agegender = faceres or labelling_agegender
    describe = FaceResDescriptor(faceres) if faceres else FaceApiDescriptor()
    _ = gen.mean_style

    asked = eval_asks(n)
    done = read_eval_log(Path(log), {
        "n": n, "judge": judge, "seed": seed, "psi": psi, "expression_edit": expression_edit,
        "directions": None if directions is None else str(Path(directions).resolve()),
        "candidates": candidates, "more_candidates": more_candidates, "styled": styled,
        "age_gender_judge": agegender.name, "feature_space": describe.space,
    }) if log is not None else {}

    def read(face: np.ndarray):
        small = resize(face, LABEL_SIZE)
        found = detector.detect(small)
        box = tuple(int(v) for v in found[0].box) if found else centre_box(LABEL_SIZE)
        return small, box, len(found)

    most = {e: candidates_at_most(candidates, more_candidates, (e,)) for e in EMOTIONS}
    # candidate c of ask i is row c * n + i whatever its emotion's most: the pool is drawn for
    # the largest, and an ask's first candidates are the same rows at any
    pool = gen.sample_styles(n * max(most.values()), seed, psi)
    draw = face_drawer(gen, d, NATIVE_SIZE, expression_edit, preview=candidates > 1)
    reads, ages, genders, faces_found, feats, seconds = [], [], [], [], [], 0.0
    drawn = []
    dep_ages, dep_genders = [], []
    bar = tqdm(total=len(asked), initial=len(done), desc="eval stylegan", unit="face",
               disable=not show_progress)
    for i, (e, a, g) in enumerate(asked):
        r = done.get(i)
        if r is None:
            t = time.perf_counter()
            chosen = choose(pool[candidate_rows(n, most[e], i)], [Ask(e, a, g)], draw, reader,
                            first=candidates)
            took = time.perf_counter() - t
            face = style_portrait(chosen.faces[0], e)[0] if styled else chosen.faces[0]
            small, box, count = read(face)
            ag = agegender.predict(small, [box])[0]
            dep = ag if agegender is labelling_agegender else \
                labelling_agegender.predict(small, [box])[0]
            r = {"i": i, "read": int(np.argmax(judge_model.predict(small, [box])[0])),
                 "age": float(ag.age), "gender": ag.gender, "dep_age": float(dep.age),
                 "dep_gender": dep.gender, "faces": count,
                 "feat": [float(x) for x in describe(small, box)], "drawn": chosen.drawn,
                 "seconds": took}
            if log is not None:
                append_record(Path(log), r)
            bar.update()
        seconds += float(r["seconds"])
        drawn.append(r["drawn"])
        reads.append(int(r["read"]))
        ages.append(float(r["age"]))
        genders.append(r["gender"])
        dep_ages.append(float(r["dep_age"]))
        dep_genders.append(r["dep_gender"])
        faces_found.append(int(r["faces"]))
        feats.append(np.asarray(r["feat"], dtype=np.float64))
    bar.close()
    wanted = np.array([EMOTIONS.index(e) for e, _, _ in asked])
    reads_arr = np.array(reads)
    feats_arr = np.stack(feats)
    per_emotion = {e: float((reads_arr[wanted == k] == k).mean()) for k, e in enumerate(EMOTIONS)}
    confusion = {e: {f: int(((wanted == k) & (reads_arr == j)).sum())
                     for j, f in enumerate(EMOTIONS)} for k, e in enumerate(EMOTIONS)}

    age_ok, age_mae, gender_ok = age_gender_scores(ages, genders, asked)
    by_age_group_read = by_age_group(ages, genders, asked, faces_found)
    dep_age_ok, dep_age_mae, dep_gender_ok = age_gender_scores(dep_ages, dep_genders, asked)
    diversity = float(np.mean([mean_pairwise_distance(feats_arr[wanted == k])
                               for k in range(len(EMOTIONS))]))
    identity = identity_consistency(
        SteeredPortraitRequest(emotions=EMOTIONS, n=identities,
                               seed=seed + IDENTITY_SEED_OFFSET, psi=psi,
                               size=LABEL_SIZE, directions=directions,
                               expression_edit=expression_edit, candidates=candidates),
        describe, read, judge_model) if identities >= 2 else {}
    paths = {e: emotion_path(d, e, expression_edit) for e in EMOTIONS}
    return StyleEval(judge=judge, judge_independent=judge not in LABEL_JUDGES, n=n, psi=psi,
                     per_emotion=per_emotion, overall=float((reads_arr == wanted).mean()),
                     age_group_accuracy=float(age_ok), gender_accuracy=float(gender_ok),
                     age_mae_years=age_mae,
                     age_gender_judge=agegender.name, age_gender_independent=faceres is not None,
                     dependent_age_gender={"age_group_accuracy": dep_age_ok,
                                           "gender_accuracy": dep_gender_ok,
                                           "age_mae_years": dep_age_mae},
                     by_age_group_read=by_age_group_read, feature_space=describe.space,
                     one_face=float(np.mean(np.array(faces_found) == 1)),
                     diversity=diversity, seconds_per_portrait=seconds / max(1, n),
                     peak_memory_mb=peak_memory_mb(), identity=identity, paths=paths,
                     confusion=confusion, candidates=candidates,
                     more_candidates=more_candidates if candidates > 1 else 0,
                     more_by_emotion={e: m - candidates for e, m in most.items()},
                     mean_candidates_drawn=float(np.mean(drawn)),
                     one_face_misses=[f"{e}/{a}/{g}: {k} faces"
                                      for (e, a, g), k in zip(asked, faces_found) if k != 1],
                     styled=styled)


def age_gender_scores(ages: list[float], genders: list[str],
                      asked: list[tuple[str, str, str]]) -> tuple[float, float, float]:
    """Share of asked age groups read, mean error to the group's representative age (years),
    share of asked genders read."""
    from moodshift.generate.stylegan.directions import AGE_TARGETS

    age_ok = float(np.mean([age_group(y) == a for y, (_, a, _) in zip(ages, asked)]))
    age_mae = float(np.mean([abs(y - AGE_TARGETS[a]) for y, (_, a, _) in zip(ages, asked)]))
    gender_ok = float(np.mean([s == g for s, (_, _, g) in zip(genders, asked)]))
    return age_ok, age_mae, gender_ok


def by_age_group(ages: list[float], genders: list[str], asked: list[tuple[str, str, str]],
                 faces_found: list[int]) -> dict[str, dict[str, float]]:
    """Per asked age group: the mean age read, the share of asked genders read and the share
    of portraits with exactly one face found."""
    out: dict[str, dict[str, float]] = {}
    for group in AGE_GROUPS:
        rows = [(y, s == g, n == 1) for y, s, (_, a, g), n in zip(ages, genders, asked,
                                                                  faces_found) if a == group]
        if rows:
            out[group] = {"mean_age_read": float(np.mean([y for y, _, _ in rows])),
                          "gender_accuracy": float(np.mean([ok for _, ok, _ in rows])),
                          "one_face": float(np.mean([one for _, _, one in rows])),
                          "n": len(rows)}
    return out


def identity_consistency(request, describe, read, judge=None) -> dict[str, float]:
    """Descriptor distance within one identity's seven emotions vs between identities, the
    faces drawn as ``generate --emotions all --same-person`` draws them (steered, edited, one
    identity chosen for all seven): ``request``, a SteeredPortraitRequest. With ``judge`` (an
    expression model), also the share of those faces it reads as the asked emotion: keeping the
    person must not be bought by showing the emotion less."""
    from moodshift.generate.stylegan.portraits import draw_style_faces

    faces = draw_style_faces(request)       # emotion-major: faces[k * n + i]
    identities = request.n
    rows: list[list[np.ndarray]] = [[] for _ in range(identities)]
    hits = []
    for k, face in enumerate(faces):
        small, box, _ = read(face.image)
        rows[k % identities].append(describe(small, box))
        if judge is not None:
            probs = judge.predict(small, [box])[0]
            hits.append(int(np.argmax(probs)) == EMOTIONS.index(face.emotion))
    feats = np.array(rows)
    within = float(np.mean([mean_pairwise_distance(feats[i]) for i in range(identities)]))
    between = float(np.mean([mean_pairwise_distance(feats[:, k]) for k in range(len(EMOTIONS))]))
    out = {"identities": identities, "within_identity": within, "between_identities": between,
           "ratio": within / between if between else float("nan")}
    if hits:
        out["judge_read_as_asked"] = float(np.mean(hits))
    return out
