"""Probe: would a stronger expression edit, tried only where the tuners do not yet read the
target, make photographed faces read as the target more often?

For each portrait of ``--data`` (the first ``--limit``, sorted by name; the SSD's first face) and
each emotion, the face is edited (moodshift.style.editing.expression, no styling) at the asked
strength times each of ``--multipliers``, and both tuners (msnet, face-api expression) read every
edit at the face's box. The policy replayed: keep the first multiplier whose edit the deciding
reader(s) name as the target, else the asked strength. Deciding with msnet alone and reading with
face-api (and the reverse) checks that the policy moves a reader it did not consult. Printed per
emotion: each reader's target-hit at the asked strength and under the policy, and the mean
identity distance of the kept edits. fer and the mood models never take part.

    nice env PYTHONPATH=src python tools/edit_strength_probe.py --data /tmp/lfw-tune --limit 50

Session 18 (LFW 51-100; rule and result: docs/expression-editing.md, "A stronger edit where the
tuners do not see the target").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

READERS = ("moodshift", "faceapi")          # msnet, face-api expression


def record(data: Path, limit: int, multipliers: list[float]) -> list[dict]:
    from moodshift.emotions import EMOTIONS
    from moodshift.expression.load import load_expression_model
    from moodshift.faces.detect import load_detector
    from moodshift.imageio import list_images, load_image
    from moodshift.style.editing.expression import edit_expressions

    detector = load_detector("ssd")
    readers = [load_expression_model(name) for name in READERS]
    rows = []
    for path in sorted(list_images(data))[:limit]:
        image = load_image(path)
        faces = detector.detect(image)
        if not faces:
            continue
        box = tuple(int(v) for v in faces[0].box)
        for emotion in EMOTIONS:
            edits = {}
            for m in multipliers:
                out, done, _ = edit_expressions(image, [box], {emotion: 1.0}, m)
                edits[m] = {"applied": done[0].applied, "identity": done[0].identity_distance,
                            "probs": [r.predict(out, [box])[0].tolist() for r in readers]}
            rows.append({"photo": path.name, "emotion": emotion, "edits": edits})
        print(path.name, file=sys.stderr, flush=True)
    return rows


def replay(rows: list[dict], multipliers: list[float], deciders: tuple[int, ...]) -> dict:
    from moodshift.emotions import EMOTIONS

    def names(edit: dict, reader: int, k: int) -> bool:
        return int(np.argmax(edit["probs"][reader])) == k

    out: dict[str, dict] = {}
    for row in rows:
        k = EMOTIONS.index(row["emotion"])
        base = row["edits"][multipliers[0]]
        kept = base
        for m in multipliers:
            edit = row["edits"][m]
            if edit["applied"] and all(names(edit, r, k) for r in deciders):
                kept = edit
                break
        tally = out.setdefault(row["emotion"], {"n": 0, "identity": [], **{
            f"{r} asked / policy": [0, 0] for r in READERS}})
        tally["n"] += 1
        tally["identity"].append(kept["identity"] or 0.0)
        for j, r in enumerate(READERS):
            tally[f"{r} asked / policy"][0] += names(base, j, k)
            tally[f"{r} asked / policy"][1] += names(kept, j, k)
    for tally in out.values():
        tally["identity"] = round(float(np.mean(tally["identity"])), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--multipliers", default="1,1.5,2", help="the first is the asked strength")
    args = p.parse_args(argv)
    multipliers = [float(v) for v in args.multipliers.split(",")]
    rows = record(args.data, args.limit, multipliers)
    print(json.dumps({"edits": len(rows), "multipliers": multipliers, **{
        f"{READERS[d[0]] if len(d) == 1 else 'both'} decides": replay(rows, multipliers, d)
        for d in ((0,), (1,), (0, 1))}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
