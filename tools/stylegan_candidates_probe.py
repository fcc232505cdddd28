"""Experiment: how often is the best of K candidates read as asked, and what do more buy?

``--per`` asks per emotion, cycling through the age groups and genders as ``eval gan`` does, from
held-out styles (``--seed``; ``eval gan`` draws from seed 0). Each ask draws ``--most``
candidates exactly as ``generate`` draws them (portraits.face_drawer, with the preview edit), and
the *labelling* readers read every one (choose.CandidateReader: msnet + face-api expression,
face-api age/gender, face mesh presence, the Tiny detector). choose() itself is then run again
on the recorded readings for K = ``--candidates`` and each number of more candidates up to
``--most`` - K: the share of kept faces read as asked (emotion, age group, gender, all three and
found), and how many candidates were drawn. fer, FaceRes and the SSD's face count are never consulted: they judge the
result in ``moodshift eval gan``. This chose choose.DEFAULT_MORE_CANDIDATES (docs/stylegan.md).

    nice env PYTHONPATH=src python tools/stylegan_candidates_probe.py --per 10 --seed 9300
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


class RecordedReader:
    """The readings recorded for one ask's candidates, served to choose() again: a drawn
    "face" is its candidate's number (-1: drawn again with a shorter move, not recorded)."""

    def __init__(self, recs: list[dict]) -> None:
        self.recs = recs

    def found(self, face: np.ndarray) -> bool:
        c = int(face.flat[0])
        return c >= 0 and self.recs[c]["found"]

    def read(self, face: np.ndarray, ask):
        from moodshift.generate.stylegan.choose import Reading

        r = self.recs[int(face.flat[0])]
        return Reading(r["score"], tuple(r["asked"]), tuple(r["misread"]))


def replay(rows: list[list[dict]], k: int, most: int) -> dict[str, float]:
    """choose() itself on the recorded readings: k candidates first, up to ``most`` in all."""
    from moodshift.generate.stylegan.choose import Ask, Drawn, choose

    def draw(style: np.ndarray, ask: Ask) -> Drawn:
        return Drawn(np.full((1, 1), int(style[0]) if ask.emotion_share == 1 else -1), False)

    kept, drawn = [], []
    for recs in rows:
        chosen = choose(np.arange(most, dtype=float)[:, None], [Ask("neutral")], draw,
                        RecordedReader(recs), first=k)
        kept.append(recs[chosen.candidate])
        drawn.append(chosen.drawn)
    share = lambda ok: round(float(np.mean([ok(r) for r in kept])), 3)  # noqa: E731
    return {"emotion": share(lambda r: "emotion" not in r["misread"]),
            "age group": share(lambda r: "age group" not in r["misread"]),
            "gender": share(lambda r: "gender" not in r["misread"]),
            "all and found": share(lambda r: r["found"] and not r["misread"]),
            "mean_drawn": round(float(np.mean(drawn)), 3)}


def main(argv: list[str] | None = None) -> int:
    from moodshift.emotions import EMOTIONS
    from moodshift.generate.stylegan.choose import Ask, load_candidate_reader
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.evaluate import eval_asks
    from moodshift.generate.stylegan.generator import (
        DEFAULT_PSI,
        NATIVE_SIZE,
        load_style_generator,
    )
    from moodshift.generate.stylegan.portraits import face_drawer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per", type=int, default=10, help="asks per emotion")
    p.add_argument("--seed", type=int, default=9300)
    p.add_argument("--candidates", type=int, default=3)
    p.add_argument("--most", type=int, default=8, help="candidates drawn per ask")
    args = p.parse_args(argv)

    gen, reader = load_style_generator(), load_candidate_reader()
    draw = face_drawer(gen, load_directions(None), NATIVE_SIZE, True, preview=True)
    asks = [Ask(*asked) for asked in eval_asks(args.per * len(EMOTIONS))]
    # the same rows choose() gets: candidate c of ask i is row c * n + i
    pool = gen.sample_styles(len(asks) * args.most, args.seed, DEFAULT_PSI)
    rows, seconds = [], []
    for i, ask in enumerate(asks):
        recs = []
        for c in range(args.most):
            t = time.perf_counter()
            face = draw(pool[c * len(asks) + i], ask).face
            read = reader.read(face, ask)
            recs.append({"found": bool(reader.found(face)), "score": read.score,
                         "asked": list(read.asked), "misread": list(read.misread)})
            seconds.append(time.perf_counter() - t)
        rows.append(recs)
        print(f"{i + 1}/{len(asks)}", file=sys.stderr, flush=True)
    results = {f"{args.candidates} + up to {more} more":
               replay(rows, args.candidates, args.candidates + more)
               for more in range(args.most - args.candidates + 1)}
    by_emotion = {e: replay(rows[j * args.per:(j + 1) * args.per], args.candidates,
                            args.most) for j, e in enumerate(EMOTIONS)}
    print(json.dumps({"asks": len(asks), "seed": args.seed, "readers": "labelling (msnet, "
                      "face-api expression and age/gender, face mesh, Tiny detector)",
                      "seconds_per_candidate": round(float(np.mean(seconds)), 3),
                      "results": results, f"by emotion, up to {args.most} candidates": by_emotion},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
