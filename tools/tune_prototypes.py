"""Experiment: each emotion's action-unit intensities, chosen by msnet with CMA-ES.

The prototypes in ``moodshift.style.editing.templates.PROTOTYPES`` are EMFACS combinations with
hand-set intensities. This script searches the intensities of every action unit the templates
know (bounds 0..MAX_INTENSITY) for one emotion at a time, with pyribs' CMA-ES, maximising the
mean probability msnet (moodshift's own expression net, the *tuning* judge) gives the target on
the expression edit alone (default strength, no stylisation) of the portraits in ``--data``. The
portraits are split in two halves: the search sees the first, the second reports whether the
choice carries to faces it did not see. fer and face-api are never loaded: they judge the result
in ``moodshift eval stylize`` on other portraits.

    mkdir /tmp/lfw-tune && for f in $(ls ../shared/portraits/lfw | sort | sed -n 51,100p); do
        ln -s "$PWD/../shared/portraits/lfw/$f" /tmp/lfw-tune/; done
    nice env PYTHONPATH=src python tools/tune_prototypes.py --data /tmp/lfw-tune \
        --emotions fear,disgust --evals 96 --out prototypes.json

``--stylegan N`` adds N faces from the StyleGAN generator, each steered toward the emotion as
`generate` steers it before the edit (rendered at 256 px; seed 6000, never eval gan's 0), one
after each portrait, so both halves hold both kinds, edited at `generate`'s strength for the
emotion (photos at 1). Session 9's fear search:
``--emotions fear --evals 160 --stylegan 50 --stylegan-share 0.75`` (0.75 was fear's move then).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

MAX_INTENSITY = 1.5


def main(argv: list[str] | None = None) -> int:
    from ribs.emitters.opt import CMAEvolutionStrategy

    from moodshift.emotions import EMOTIONS
    from moodshift.expression.load import load_expression_model
    from moodshift.faces.detect import load_detector
    from moodshift.imageio import load_image
    from moodshift.style.editing import templates
    from moodshift.style.editing.expression import edit_expressions

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--emotions", default="fear,disgust")
    ap.add_argument("--evals", type=int, default=96)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--stylegan", type=int, default=0, help="steered generated faces to add")
    ap.add_argument("--stylegan-seed", type=int, default=6000)
    ap.add_argument("--stylegan-share", type=float, default=None,
                    help="share of the emotion's calibrated move (default: generate's)")
    args = ap.parse_args(argv)

    msnet = load_expression_model("msnet")
    detector = load_detector("auto")
    faces = []
    for path in sorted(args.data.iterdir()):
        image = np.asarray(load_image(path))
        found = detector.detect(image)
        if found:
            faces.append((path.name, image, max(found, key=lambda d: d.area).box, 1.0))
    units = sorted(templates.AU)

    def with_generated(emotion: str) -> list:
        if args.stylegan <= 0:
            return faces
        from moodshift.generate.stylegan.directions import AGE_TARGETS, load_directions
        from moodshift.generate.stylegan.generator import DEFAULT_PSI, load_style_generator
        from moodshift.generate.stylegan.portraits import EDIT_STRENGTH, direction_share, steer

        d, gen = load_directions(None), load_style_generator()
        share = args.stylegan_share if args.stylegan_share is not None else \
            direction_share(emotion, True)
        ages = list(AGE_TARGETS)
        styles = gen.sample_styles(args.stylegan, args.stylegan_seed, DEFAULT_PSI)
        steered = []
        for i in range(args.stylegan):
            face = gen.render(steer(d, styles[i:i + 1], emotion, ages[i % len(ages)],
                                    ("female", "male")[(i // len(ages)) % 2], share), 256)[0]
            found = detector.detect(face)    # framed as the photos are
            if found:
                steered.append((f"stylegan {i}", face, max(found, key=lambda f: f.area).box,
                                EDIT_STRENGTH.get(emotion, 1.0)))
        mixed = [x for pair in zip(faces, steered) for x in pair]
        longer = faces if len(faces) > len(steered) else steered
        return mixed + longer[min(len(faces), len(steered)):]

    def score(emotion: str, x: np.ndarray, portraits: list) -> tuple[float, int]:
        templates.PROTOTYPES[emotion] = {u: float(v) for u, v in zip(units, x) if v > 1e-3}
        k = EMOTIONS.index(emotion)
        probs = []
        for _, image, box, strength in portraits:
            edited = edit_expressions(image, [box], {emotion: 1.0}, strength)[0]
            probs.append(msnet.predict(edited, [box])[0])
        probs = np.array(probs)
        return float(probs[:, k].mean()), int((probs.argmax(1) == k).sum())

    report: dict[str, object] = {"data": str(args.data), "stylegan_faces": args.stylegan,
                                 "units": units, "judge": "msnet (tuning)", "emotions": {}}
    for emotion in args.emotions.split(","):
        portraits = with_generated(emotion)
        search, check = portraits[:len(portraits) // 2], portraits[len(portraits) // 2:]
        start = dict(templates.PROTOTYPES[emotion])
        x0 = np.array([start.get(u, 0.0) for u in units])
        cma = CMAEvolutionStrategy(0.3, len(units), batch_size=args.batch, seed=0,
                                   lower_bounds=0.0, upper_bounds=MAX_INTENSITY)
        cma.reset(x0)
        best_x, (best, best_hits) = x0, score(emotion, x0, search)
        first = (best, best_hits)
        done, t0 = 1, time.time()
        while done < args.evals:
            xs = np.clip(cma.ask(), 0.0, MAX_INTENSITY)
            values = np.array([score(emotion, x, search)[0] for x in xs])
            done += len(xs)
            order = np.argsort(-values)
            cma.tell(order, values[order], num_parents=len(xs) // 2)
            if values[order[0]] > best:
                best_x, best = xs[order[0]], float(values[order[0]])
            print(f"{emotion}: {done} evaluations, best mean p {best:.3f} "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
        chosen = {u: round(float(v), 2) for u, v in zip(units, best_x) if v >= 0.05}
        report["emotions"][emotion] = {  # type: ignore[index]
            "search_portraits": len(search), "check_portraits": len(check),
            "start": start, "chosen": chosen,
            "search_mean_p": [round(first[0], 4), round(best, 4)],
            "search_hits": [first[1], score(emotion, best_x, search)[1]],
            "check_mean_p_hits": [score(emotion, x0, check), score(emotion, best_x, check)]}
        templates.PROTOTYPES[emotion] = start
        print(json.dumps(report["emotions"][emotion]), file=sys.stderr, flush=True)  # type: ignore[index]
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
