"""Probe: do the expression edit's textures (brow furrows, nasolabial folds, ratio-image shading)
make generated children and teens read older, and what do they do for the emotion?

Child and teen asks of the six expression-edited emotions (``--per`` identities each, both
genders, held-out seeds from ``--seed``) are drawn as ``generate`` draws them, with the textures
(``current``) or with ``texture.shade`` and ``shading.apply_ratio`` passed through (``off``); the
labelling readers (face-api age, msnet + face-api expression) read the kept faces. FaceRes, fer
and the SSD do not take part.

    nice env PYTHONPATH=src python tools/young_texture_probe.py current --out /tmp/current.json
    nice env PYTHONPATH=src python tools/young_texture_probe.py off --out /tmp/off.json

Session 19's rule and result: docs/stylegan.md, "A second FaceRes reads the ages".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from age_judge_probe import held_out_requests  # tools/, beside this script

import moodshift.style.editing.expression as expression_editor
from moodshift.emotions import EMOTIONS
from moodshift.generate.stylegan.choose import load_candidate_reader
from moodshift.generate.stylegan.portraits import EDITED_EMOTIONS, draw_style_faces
from moodshift.people import age_group_of

GROUPS = ("child", "teen")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("variant", choices=("current", "off"))
    ap.add_argument("--per", type=int, default=3)
    ap.add_argument("--seed", type=int, default=19600)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.variant == "off":
        expression_editor.texture.shade = lambda region, amount: region
        expression_editor.shading.apply_ratio = lambda region, ratio: region
    reader = load_candidate_reader()
    emotions = tuple(e for e in EMOTIONS if e in EDITED_EMOTIONS)
    rows = []
    for group, gender, req in held_out_requests(GROUPS, emotions, args.per, args.seed):
        for face in draw_style_faces(req):
            small, box, probs, _ = reader._look(face.image)
            k = EMOTIONS.index(face.emotion)
            rows.append({"group": group, "gender": gender, "emotion": face.emotion,
                         "age": reader.agegender.predict(small, [box])[0].age,
                         "both_name": bool(all(int(np.argmax(p)) == k for p in probs)),
                         "p_asked": float(probs[:, k].mean())})
        print(f"{group} {gender}: {len(rows)} faces", flush=True)
    args.out.write_text(json.dumps(rows, indent=1))
    print(f"{args.variant}: age group read as asked {sum(age_group_of(r['age']) == r['group'] for r in rows)}"
          f" / {len(rows)}, both readers name the emotion {sum(r['both_name'] for r in rows)}, "
          f"mean P(asked) {np.mean([r['p_asked'] for r in rows]):.3f}")
    for e in emotions:
        ages = [np.mean([r["age"] for r in rows if r["emotion"] == e and r["group"] == g])
                for g in GROUPS]
        print(f"  {e}: mean age child {ages[0]:.1f}, teen {ages[1]:.1f}; both name "
              f"{sum(r['both_name'] for r in rows if r['emotion'] == e)}")


if __name__ == "__main__":
    main()
