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
    args = ap.parse_args(argv)

    msnet = load_expression_model("msnet")
    detector = load_detector("auto")
    faces = []
    for path in sorted(args.data.iterdir()):
        image = np.asarray(load_image(path))
        found = detector.detect(image)
        if found:
            faces.append((path.name, image, max(found, key=lambda d: d.area).box))
    half = len(faces) // 2
    search, check = faces[:half], faces[half:]
    units = sorted(templates.AU)

    def score(emotion: str, x: np.ndarray, portraits: list) -> tuple[float, int]:
        templates.PROTOTYPES[emotion] = {u: float(v) for u, v in zip(units, x) if v > 1e-3}
        k = EMOTIONS.index(emotion)
        probs = []
        for _, image, box in portraits:
            edited = edit_expressions(image, [box], {emotion: 1.0}, 1.0)[0]
            probs.append(msnet.predict(edited, [box])[0])
        probs = np.array(probs)
        return float(probs[:, k].mean()), int((probs.argmax(1) == k).sum())

    report: dict[str, object] = {"data": str(args.data), "search_portraits": len(search),
                                 "check_portraits": len(check), "units": units,
                                 "judge": "msnet (tuning)", "emotions": {}}
    for emotion in args.emotions.split(","):
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
