"""Probe: where do same-person StyleGAN faces lose the person, read by the identity *tuner*?

face-api's face recognition net (moodshift.faces.recognition) reads every face; FaceRes, the
judge of `eval gan`, takes no part, so what is tried here stays independent of the figures it
reports. Emotion is read by the labelling readers (msnet + face-api expression, mean probability
of the asked emotion), never by fer. Identities are drawn with `--seed` (held out from the
calibration and eval seeds), faces at the labelling size (256 px), and each probe prints the
tuner's ratio (mean distance within one identity's seven emotions over the mean distance between
identities showing one emotion, as `eval gan` computes it) beside the readers' P(asked):

* ``base``: the faces as `generate --same-person --emotions all` draws them (candidates chosen),
  the same styles with the steering moves only, and each emotion's distance to the unmoved face;
* ``strengths``: candidate 0 of each identity, the expression edit at the given multiples of its
  strength (``--values 1,0.75,0.5``);
* ``parts``: the edit with its ratio-image shading, its creases and folds, its teeth painting, or
  all three left out;
* ``regions``: the warp's moves zeroed at the points nearest the mouth, eyes, brows or nose, or
  at the rest (cheeks, jaw, outline, forehead: farther than 0.6 eye distances from those);
* ``choice``: the three candidates of each identity drawn and edited; the same-person choice's
  ranking (found, read as asked, summed reader score) against one that breaks ties on the
  readers' count by the least identity drift instead.

    nice env PYTHONPATH=src python tools/identity_drift_probe.py base --seed 9700 --n 12

Session 17's results and the rules written before each: docs/stylegan.md, "An identity tuner".
"""

from __future__ import annotations

import argparse
import json
from contextlib import contextmanager

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.faces.masks import LEFT_BROW, LEFT_EYE, LIPS_OUTER, RIGHT_BROW, RIGHT_EYE

NOSE = (1, 2, 4, 5, 6, 98, 195, 197, 327)
REGIONS = {"mouth": (LIPS_OUTER,), "eyes": (RIGHT_EYE, LEFT_EYE),
           "brows": (RIGHT_BROW, LEFT_BROW), "nose": (NOSE,)}
NEAR = 0.6          # eye distances: farther from every named region is "rest"


def ratio(desc: np.ndarray) -> dict[str, float]:
    """desc (identities, 7, d): within / between as `eval gan` computes them."""
    from moodshift.generate.gan.evaluate import mean_pairwise_distance

    within = np.mean([mean_pairwise_distance(desc[i]) for i in range(len(desc))])
    between = np.mean([mean_pairwise_distance(desc[:, j]) for j in range(desc.shape[1])])
    return {"ratio": round(float(within / between), 4), "within": round(float(within), 4),
            "between": round(float(between), 4)}


def region_of(points: np.ndarray) -> np.ndarray:
    """Each mesh point's nearest named region (or "rest")."""
    p = points[:, :2]
    eye = np.linalg.norm(p[33] - p[263])
    names = list(REGIONS)
    dist = np.stack([np.min([np.linalg.norm(p - p[list(c)].mean(0), axis=1)
                             for c in REGIONS[g]], axis=0) for g in names], 1)
    label = np.array(names, dtype=object)[dist.argmin(1)]
    label[dist.min(1) > NEAR * eye] = "rest"
    return label


class Probe:
    def __init__(self, seed: int, n: int) -> None:
        from moodshift.faces.detect import load_detector
        from moodshift.faces.recognition import FaceRecognizer
        from moodshift.generate.stylegan.choose import load_candidate_reader
        from moodshift.generate.stylegan.directions import load_directions
        from moodshift.generate.stylegan.generator import DEFAULT_PSI, load_style_generator

        self.seed, self.n = seed, n
        self.recognizer, self.ssd = FaceRecognizer(), load_detector("ssd")
        self.reader = load_candidate_reader()
        self.gen, self.d = load_style_generator(), load_directions(None)
        self.pool = self.gen.sample_styles(n * 3, seed, DEFAULT_PSI)

    def candidates(self, i: int) -> np.ndarray:
        from moodshift.generate.stylegan.choose import candidate_rows
        return self.pool[candidate_rows(self.n, 3, i)]

    def describe(self, img: np.ndarray) -> np.ndarray:
        found = self.ssd.detect(img)
        box = tuple(int(v) for v in found[0].box) if found else (0, 0, img.shape[1], img.shape[0])
        return self.recognizer.describe(img, [box])[0]

    def p_asked(self, img: np.ndarray, emotion: str) -> float:
        return float(self.reader.emotion_probabilities(img)[EMOTIONS.index(emotion)])

    def moved(self, style: np.ndarray, emotion: str) -> np.ndarray:
        """Steered as generate steers a face that is then edited (unedited: happy)."""
        from moodshift.generate.stylegan.labels import LABEL_SIZE
        from moodshift.generate.stylegan.portraits import direction_share, steer

        styles = steer(self.d, style[None], emotion, None, None, direction_share(emotion, True))
        return self.gen.render(styles, LABEL_SIZE)[0]

    def edited_grid(self, strength: float = 1.0) -> dict[str, object]:
        """Candidate 0 of each identity, moved and edited at ``strength`` times the usual."""
        from moodshift.generate.stylegan.portraits import (
            EDIT_STRENGTH,
            EDITED_EMOTIONS,
            face_box,
        )
        from moodshift.style.editing.expression import edit_expressions

        desc = np.zeros((self.n, len(EMOTIONS), 128))
        probs: dict[str, list[float]] = {e: [] for e in EMOTIONS}
        for i in range(self.n):
            style = self.candidates(i)[0]
            for j, e in enumerate(EMOTIONS):
                img = self.moved(style, e)
                box = face_box(img)
                if e in EDITED_EMOTIONS and box is not None and strength > 0:
                    img = edit_expressions(img, [box], {e: 1.0},
                                           EDIT_STRENGTH.get(e, 1.0) * strength)[0]
                desc[i, j] = self.describe(img)
                probs[e].append(self.p_asked(img, e))
        return {**ratio(desc), "p_asked_mean": round(float(np.mean(list(probs.values()))), 4),
                "p_asked": {e: round(float(np.mean(v)), 3) for e, v in probs.items()}}


def run_base(probe: Probe) -> dict[str, object]:
    from moodshift.generate.stylegan.labels import LABEL_SIZE
    from moodshift.generate.stylegan.portraits import SteeredPortraitRequest, draw_style_faces

    n = probe.n
    faces = draw_style_faces(SteeredPortraitRequest(emotions=EMOTIONS, n=n, seed=probe.seed,
                                                    size=LABEL_SIZE))
    final, moves, base = np.zeros((n, 7, 128)), np.zeros((n, 7, 128)), np.zeros((n, 128))
    for f in faces:
        final[f.identity, EMOTIONS.index(f.emotion)] = probe.describe(f.image)
    for i in range(n):
        style = probe.candidates(i)[next(f.candidate for f in faces if f.identity == i)]
        base[i] = probe.describe(probe.gen.render(style[None], LABEL_SIZE)[0])
        for j, e in enumerate(EMOTIONS):
            moves[i, j] = probe.describe(probe.moved(style, e))

    def to_base(x: np.ndarray) -> dict[str, float]:
        return {e: round(float(np.linalg.norm(x[:, j] - base, axis=1).mean()), 3)
                for j, e in enumerate(EMOTIONS)}
    return {"as_drawn": ratio(final), "moves_only": ratio(moves),
            "distance_to_unmoved_face": {"as_drawn": to_base(final), "moves_only": to_base(moves)}}


@contextmanager
def parts_left_out(which: str):
    """The edit with some of its painting replaced by no-ops."""
    import moodshift.style.editing.expression as editor

    saved = editor.shading.apply_ratio, editor.texture.shade, editor.texture.hide_teeth
    if which in ("ratio-shading", "all"):
        editor.shading.apply_ratio = lambda region, ratio_px: region
    if which in ("creases", "all"):
        editor.texture.shade = lambda region, amount: region
    if which in ("teeth", "all"):
        editor.texture.hide_teeth = lambda region, points, eye, amount: region
    try:
        yield
    finally:
        editor.shading.apply_ratio, editor.texture.shade, editor.texture.hide_teeth = saved


@contextmanager
def region_held(region: str):
    """The warp's moves zeroed at the points nearest ``region`` (both untangle passes)."""
    import moodshift.style.editing.expression as editor

    untangle = editor.untangle

    def held(points, moves, *args, **kwargs):
        moves = moves.copy()
        moves[region_of(points) == region] = 0.0
        return untangle(points, moves, *args, **kwargs)
    editor.untangle = held
    try:
        yield
    finally:
        editor.untangle = untangle


def run_choice(probe: Probe) -> dict[str, object]:
    from moodshift.generate.gan.evaluate import mean_pairwise_distance
    from moodshift.generate.stylegan.choose import Ask
    from moodshift.generate.stylegan.labels import LABEL_SIZE
    from moodshift.generate.stylegan.portraits import face_drawer

    draw = face_drawer(probe.gen, probe.d, LABEL_SIZE, True, preview=False)
    rows = []
    for i in range(probe.n):
        for c, style in enumerate(probe.candidates(i)):
            faces = [draw(style, Ask(e)).output()[0] for e in EMOTIONS]
            readings = [probe.reader.read(f, Ask(e)) for f, e in zip(faces, EMOTIONS)]
            desc = np.stack([probe.describe(f) for f in faces])
            rows.append({"i": i, "c": c, "found": sum(probe.reader.found(f) for f in faces),
                         "as_asked": sum(r.as_asked for r in readings),
                         "score": sum(r.score for r in readings), "drift": mean_pairwise_distance(desc),
                         "desc": desc, "p": [probe.p_asked(f, e) for f, e in zip(faces, EMOTIONS)]})
    keys = {"readers' score (current)": lambda r: (r["found"], r["as_asked"], r["score"]),
            "least identity drift": lambda r: (r["found"], r["as_asked"], -r["drift"])}
    out = {}
    for name, key in keys.items():
        kept = [max((r for r in rows if r["i"] == i), key=key) for i in range(probe.n)]
        out[name] = {**ratio(np.stack([r["desc"] for r in kept])),
                     "p_asked_mean": round(float(np.mean([r["p"] for r in kept])), 4),
                     "kept": [r["c"] for r in kept]}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=("base", "strengths", "parts", "regions", "choice"))
    parser.add_argument("--seed", type=int, default=9700)
    parser.add_argument("--n", type=int, default=12, help="identities")
    parser.add_argument("--values", default="1,0.75,0.5,0.25,0",
                        help="strengths: multiples of the edit's strength")
    args = parser.parse_args(argv)
    probe = Probe(args.seed, args.n)
    if args.probe == "base":
        out: dict[str, object] = run_base(probe)
    elif args.probe == "strengths":
        out = {v: probe.edited_grid(float(v)) for v in args.values.split(",")}
    elif args.probe == "parts":
        out = {}
        for which in ("none", "ratio-shading", "creases", "teeth", "all"):
            with parts_left_out(which):
                out[f"left out: {which}"] = probe.edited_grid()
    elif args.probe == "regions":
        out = {"none held": probe.edited_grid()}
        for region in (*REGIONS, "rest"):
            with region_held(region):
                out[f"held: {region}"] = probe.edited_grid()
    else:
        out = run_choice(probe)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
