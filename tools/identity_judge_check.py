"""Check: does FaceRes's descriptor, the identity judge of `eval gan`, tell people apart on photos?

`eval gan` reports identity consistency for `generate --same-person`: the mean descriptor
distance between one identity's seven emotions over the mean distance between identities that
show the same emotion. That figure only means something if the descriptor separates real people,
and it needs a reference: how far apart are photos of one real person? This reads every photo in
``--data`` whose person (the file name without its trailing ``_NNNN``) has at least two photos,
takes the largest face the SSD finds (a tight face crop where it finds none: the whole photo is
the box), and prints, per descriptor, the mean distance within a person and between people over
all pairs, their ratio, and the verification AUC (1: every same-person pair closer than every
other pair). With a ``labels.csv`` (image, emotion) beside the photos, the within-person mean is
also given over the pairs whose labelled expressions differ, the closest analogue of one
identity in seven emotions. ``--detected-only`` leaves the face crops out (FaceRes is framed for
a detector's box, grown by 0.2 on each side; a tight crop taken whole is framed closer). Not the same weighting as `eval gan` (it averages per identity and
compares identities within one emotion), so compare the two as orders of magnitude.
face-api's age/gender backbone, which `eval gan` falls back to without FaceRes, and face-api's
recognition net, the identity tuner of same-person portraits, are shown beside.

    nice env PYTHONPATH=src python tools/identity_judge_check.py --data ../shared/portraits/expressions
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np


def pair_auc(distances: np.ndarray, same: np.ndarray) -> float:
    """P(a same-person pair is closer than a different-person pair), ties counted half."""
    near, far = distances[same][:, None], distances[~same][None, :]
    return float(np.mean((near < far) + 0.5 * (near == far)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--detected-only", action="store_true",
                        help="leave out the photos where the SSD finds no face")
    args = parser.parse_args(argv)

    from moodshift.faces.detect import load_detector
    from moodshift.faces.faceres import FaceResAgeGender
    from moodshift.faces.recognition import FaceRecognizer
    from moodshift.generate.stylegan.evaluate import FaceApiDescriptor
    from moodshift.imageio import load_image

    def person(path: Path) -> str:
        return re.sub(r"_\d+$", "", path.stem)

    photos = sorted(p for p in args.data.iterdir()
                    if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    counts = Counter(person(p) for p in photos)
    detector, faceres, faceapi = load_detector("ssd"), FaceResAgeGender(), FaceApiDescriptor()
    recognizer = FaceRecognizer()
    labels_file = args.data / "labels.csv"
    labels = {}
    if labels_file.exists():
        with labels_file.open(newline="") as handle:
            labels = {row["image"]: row["emotion"] for row in csv.DictReader(handle)}
    names, expressions, crops = [], [], 0
    rows: dict[str, list] = {"FaceRes (identity judge of eval gan)": [],
                             "face-api age/gender backbone (fallback)": [],
                             "face-api recognition net (identity tuner)": []}
    for path in photos:
        if counts[person(path)] < 2:
            continue
        image = load_image(path)
        faces = detector.detect(image)
        if faces:
            box = tuple(int(v) for v in max(faces, key=lambda f: f.box[2] * f.box[3]).box)
        elif args.detected_only:
            continue
        else:
            box, crops = (0, 0, image.shape[1], image.shape[0]), crops + 1
        names.append(person(path))
        expressions.append(labels.get(path.name))
        rows["FaceRes (identity judge of eval gan)"].append(faceres.describe(image, [box])[0])
        rows["face-api age/gender backbone (fallback)"].append(faceapi(image, box))
        rows["face-api recognition net (identity tuner)"].append(
            recognizer.describe(image, [box])[0])
    who = np.array(names)
    upper = np.triu_indices(len(who), 1)
    same = (who[:, None] == who[None])[upper]
    expr = np.array([e or "" for e in expressions])
    known = expr != ""
    differ = same & (expr[:, None] != expr[None])[upper] & (known[:, None] & known[None])[upper]
    print(f"{len(who)} photos of {len(set(names))} people ({crops} face crops taken whole); "
          f"{same.sum()} same-person pairs ({differ.sum()} with different labelled "
          f"expressions), {(~same).sum()} others")
    for label, feats in rows.items():
        x = np.array(feats)
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)[upper]
        within, between = d[same].mean(), d[~same].mean()
        line = (f"{label}: within a person {within:.3f}, between people {between:.3f}, "
                f"ratio {within / between:.3f}, verification AUC {pair_auc(d, same):.3f}")
        if differ.any():
            line += (f"; different expressions of one person {d[differ].mean():.3f}, "
                     f"ratio {d[differ].mean() / between:.3f}")
        print(line)


if __name__ == "__main__":
    main()
