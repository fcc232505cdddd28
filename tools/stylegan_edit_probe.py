"""Experiment: does the expression editor make a steered StyleGAN face read as its emotion?

For each emotion, ``--n`` held-out styles (``--seed``; ``eval gan`` draws from seed 0) are steered
to it, cycling through the age groups and genders as ``eval gan`` does, rendered at 256 px and
read by the *labelling* models (msnet + face-api, their mean, as the directions use them and
as the chooser did before session 18) without the edit and with it at each ``--strengths``, for each ``--shares`` of the
emotion's calibrated position; face-api's Tiny detector (framed, as the chooser uses it) says
whether it still finds the face. fer and the SSD's face count are never consulted: they judge
the result in ``moodshift eval gan``. This chose ``EDITED_EMOTIONS``, ``EDITED_MOVE`` and
``UNEDITED_MOVE`` in ``moodshift.generate.stylegan.portraits`` (docs/stylegan.md, "Every emotion
but happy edited", "Happy moves half its way").

    nice env PYTHONPATH=src python tools/stylegan_edit_probe.py \
        --emotions sad,surprise,neutral,fear --n 60 --seed 6000 --strengths 0.5,1
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from moodshift.emotions import EMOTIONS
    from moodshift.generate.stylegan.choose import CandidateReader
    from moodshift.generate.stylegan.directions import AGE_TARGETS, load_directions
    from moodshift.generate.stylegan.generator import DEFAULT_PSI, load_style_generator
    from moodshift.generate.stylegan.labels import FaceLabeller
    from moodshift.generate.stylegan.portraits import face_box, steer
    from moodshift.style.editing.expression import edit_expressions

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--emotions", default=",".join(EMOTIONS))
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--seed", type=int, default=6000)
    p.add_argument("--strengths", default="0.5,1")
    p.add_argument("--shares", default="1",
                   help="shares of the emotion's calibrated position along its direction")
    args = p.parse_args(argv)

    directions, gen = load_directions(None), load_style_generator()
    labeller, guard = FaceLabeller(), CandidateReader()
    ages, genders = list(AGE_TARGETS), ("female", "male")
    styles = gen.sample_styles(args.n, args.seed, DEFAULT_PSI)
    strengths = [0.0] + [float(s) for s in args.strengths.split(",")]
    shares = [float(s) for s in args.shares.split(",")]
    results = {}
    for emotion in args.emotions.split(","):
        k = EMOTIONS.index(emotion)
        variants = [(share, s) for share in shares for s in strengths]
        reads: dict[tuple[float, float], list[np.ndarray]] = {v: [] for v in variants}
        kept: dict[tuple[float, float], list[bool]] = {v: [] for v in variants}
        for i in range(args.n):
            for share in shares:
                steered = steer(directions, styles[i:i + 1], emotion, ages[i % len(ages)],
                                genders[(i // len(ages)) % 2], share)
                face = gen.render(steered, 256)[0]
                box = face_box(face)   # the box generate's edit uses
                for s in strengths:
                    out = edit_expressions(face, [box], {emotion: 1.0}, s)[0] \
                        if s > 0 and box else face
                    reads[share, s].append(labeller(out[None]).emotion_probs[0])
                    kept[share, s].append(guard.found(out))
        for (share, s), rows in reads.items():
            probs = np.stack(rows)
            name = f"{emotion} share {share:g} edit {s:g}"
            results[name] = {
                "read_as_asked": float((probs.argmax(1) == k).mean()),
                "mean_probability": float(probs[:, k].mean()),
                "tiny_detector_finds_one": float(np.mean(kept[share, s])),
                "read_as": dict(zip(EMOTIONS, np.bincount(probs.argmax(1),
                                                          minlength=len(EMOTIONS)).tolist())),
            }
            print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    print(json.dumps({"n": args.n, "seed": args.seed, "readers": "msnet + face-api (labelling)",
                      "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
