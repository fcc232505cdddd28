"""Probe: when is a steered StyleGAN candidate's emotion "read as asked", and what does the rule
change in the faces choose() keeps?

``--per`` asks per emotion (``--emotions``; age groups and genders cycling as ``eval gan`` asks
them), each with ``--most`` candidates drawn from held-out styles (``--seed``) exactly as
``generate`` draws them. Every candidate is read once by the labelling readers, each expression
reader (msnet, face-api) kept apart, and the readings recorded (``--out``, JSON). choose() is then
replayed on the recordings (``--candidates`` first, up to ``--more`` more) with
CandidateReader.read itself, its expression readers given as:

* ``every``: both readers; the emotion is read as asked when each names it (the rule since
  session 18);
* ``mean``: their mean probabilities as one reader (the rule before);
* ``msnet`` / ``faceapi``: that reader alone, the other then reading the kept faces (a check that
  choosing by one reader moves the other, not only itself).

For each: the share of kept faces each reader names as the asked emotion (and both), the asked
age group and gender as face-api reads them, and the candidates drawn. fer, FaceRes and the SSD
never take part: they judge the result in ``moodshift eval gan``.

    nice env PYTHONPATH=src python tools/reader_agreement_probe.py --emotions disgust --per 70 \\
        --seed 9401 --out /tmp/disgust.json
    nice env PYTHONPATH=src python tools/reader_agreement_probe.py --replay /tmp/disgust.json

Session 18's rules and results: docs/stylegan.md, "Every reader names the emotion".
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

READERS = ("msnet", "faceapi")          # choose.CandidateReader.expression order (LABEL_JUDGES)


def record(emotions: list[str], per: int, seed: int, most: int) -> list[dict]:
    from moodshift.generate.stylegan.choose import Ask, load_candidate_reader
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.evaluate import eval_asks
    from moodshift.generate.stylegan.generator import (
        DEFAULT_PSI,
        NATIVE_SIZE,
        load_style_generator,
    )
    from moodshift.generate.stylegan.portraits import face_drawer

    gen, reader = load_style_generator(), load_candidate_reader()
    draw = face_drawer(gen, load_directions(None), NATIVE_SIZE, True, preview=True)
    cycle = [(a, g) for _, a, g in eval_asks(7 * per)[:per]]
    asks = [Ask(e, a, g) for e in emotions for a, g in cycle]
    pool = gen.sample_styles(len(asks) * most, seed, DEFAULT_PSI)
    rows = []
    for i, ask in enumerate(asks):
        cands = []
        for c in range(most):
            face = draw(pool[c * len(asks) + i], ask).face
            small, box, each_reader, presence = reader._look(face)
            read = reader.agegender.predict(small, [box])[0]
            cands.append({"found": bool(reader.found(face)), "probs": each_reader.tolist(),
                          "presence": presence, "age": read.age, "gender": read.gender,
                          "gender_probability": read.gender_probability})
        rows.append({"ask": [ask.emotion, ask.age_group, ask.gender], "candidates": cands})
        print(f"{i + 1}/{len(asks)}", file=sys.stderr, flush=True)
    return rows


class ReplayReader:
    """CandidateReader.read on recorded readings; a drawn "face" is its candidate's number, and
    ``readers`` picks the expression readers read() sees (rows of the recorded probabilities, or
    "mean" for their mean as one reader). A kept face the detector misses is not drawn again
    with a shorter move (choose's STEP_BACK): the replay sees its recording, still missed."""

    def __init__(self, cands: list[dict], readers: str) -> None:
        from moodshift.faces.base import AgeGender
        from moodshift.generate.stylegan.choose import CandidateReader

        self.cands = cands
        self.inner = CandidateReader.__new__(CandidateReader)   # no networks: all recorded
        self.readers = readers
        self.age_gender = AgeGender

    def found(self, face: np.ndarray) -> bool:
        return bool(self.cands[int(face.flat[0])]["found"])

    def read(self, face: np.ndarray, ask):
        c = self.cands[int(face.flat[0])]
        probs = np.asarray(c["probs"])
        probs = probs.mean(axis=0, keepdims=True) if self.readers == "mean" else \
            probs if self.readers == "every" else probs[[READERS.index(self.readers)]]
        self.inner._look = lambda _face: (None, None, probs, c["presence"])
        reading = self.age_gender(c["age"], c["gender"], c["gender_probability"])
        self.inner.agegender = type("Recorded", (), {"predict": lambda _s, *_a: [reading]})()
        return self.inner.read(face, ask)


def replay(rows: list[dict], readers: str, k: int, more: int) -> dict:
    from moodshift.emotions import EMOTIONS
    from moodshift.generate.stylegan.choose import Ask, Drawn, choose
    from moodshift.people import age_group_of

    def draw(style: np.ndarray, ask: Ask) -> Drawn:
        return Drawn(np.full((1, 1), int(style[0])), False)

    named, age_ok, gender_ok, drawn = [], [], [], []
    for row in rows:
        ask = Ask(*row["ask"])
        chosen = choose(np.arange(k + more, dtype=float)[:, None], [ask], draw,
                        ReplayReader(row["candidates"], readers), first=k)
        kept = row["candidates"][chosen.candidate]
        named.append(np.argmax(kept["probs"], axis=1) == EMOTIONS.index(ask.emotion))
        age_ok.append(age_group_of(kept["age"]) == ask.age_group)
        gender_ok.append(kept["gender"] == ask.gender)
        drawn.append(chosen.drawn)
    named_arr = np.array(named)
    share = lambda x: round(float(np.mean(x)), 3)  # noqa: E731
    return {**{f"named by {r}": share(named_arr[:, j]) for j, r in enumerate(READERS)},
            "named by both": share(named_arr.all(axis=1)), "age group": share(age_ok),
            "gender": share(gender_ok), "mean_drawn": share(drawn)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--emotions", default="angry,disgust,fear,happy,sad,surprise,neutral")
    p.add_argument("--per", type=int, default=35, help="asks per emotion")
    p.add_argument("--seed", type=int, default=9401)
    p.add_argument("--most", type=int, default=9, help="candidates recorded per ask")
    p.add_argument("--out", help="write the recorded readings here (JSON)")
    p.add_argument("--replay", help="replay recorded readings instead of drawing")
    p.add_argument("--candidates", type=int, default=3)
    p.add_argument("--more", type=int, default=3)
    args = p.parse_args(argv)
    if args.replay:
        with open(args.replay) as fh:
            rows = json.load(fh)
    else:
        rows = record(args.emotions.split(","), args.per, args.seed, args.most)
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(rows, fh)
    by_emotion: dict[str, dict] = {}
    for e in dict.fromkeys(r["ask"][0] for r in rows):
        mine = [r for r in rows if r["ask"][0] == e]
        by_emotion[e] = {rule: replay(mine, rule, args.candidates, args.more)
                         for rule in ("mean", "every", *READERS)}
    print(json.dumps({"asks": len(rows), "readers": "labelling only (msnet, face-api "
                      "expression and age/gender, face mesh, Tiny detector)",
                      "candidates": f"{args.candidates} + up to {args.more} more",
                      "by_emotion": by_emotion}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
