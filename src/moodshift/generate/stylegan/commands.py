"""``moodshift train directions`` (front end; the work is in moodshift.generate.stylegan.train)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moodshift.errors import UserError


def add_train_directions_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True,
                   help="output folder (directions.safetensors, MODEL_CARD.md, checkpoints); "
                        "rerun with the same folder to resume")
    p.add_argument("--samples", type=int, default=600,
                   help="generated faces to label (default 600; ~1.5-3 s each on 2 cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=0.7, metavar="PSI",
                   help="truncation toward the mean style (default 0.7)")
    p.add_argument("--checkpoint-every", type=int, default=25, metavar="FACES")
    p.add_argument("--calibration-faces", type=int, default=6,
                   help="held-out faces per emotion and position when calibrating (default 6)")
    p.add_argument("--threads", type=int, help="OpenVINO CPU threads (default: all)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run_train_directions(args: argparse.Namespace) -> int:
    from moodshift.generate.stylegan.train import (
        DirectionsConfig,
        DirectionsInterrupted,
        command_line,
        train_directions,
    )

    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads {args.threads}: must be >= 1")
    cfg = DirectionsConfig(samples=args.samples, seed=args.seed, psi=args.truncation,
                           checkpoint_every=args.checkpoint_every,
                           calibration_faces=args.calibration_faces, threads=args.threads)
    cfg.check()
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    try:
        result = train_directions(args.out, cfg, log=log, show_progress=not args.no_progress,
                                  command=command_line())
    except DirectionsInterrupted as stop:
        print(f"moodshift: interrupted ({max(stop.done, 0)} faces labelled and saved); resume "
              f"with the same command", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result.to_json()), flush=True)
    else:
        print(f"labelled {result.samples} faces in {result.seconds / 60:.1f} min; directions: "
              f"{args.out / 'directions.safetensors'} (sha256 {result.sha256[:12]}…)")
        for name, acc in result.accuracy.items():
            print(f"  {name:9} held-out accuracy {acc:.1%}")
    return 0


# ------------------------------------------------------------- generate --generator stylegan
# Default strength of the palette style on photoreal faces: the palettes' own strengths are set
# for photos of scenes; this keeps the face legible (colours preserved).
FACE_STYLE_STRENGTH = 0.35


def parse_emotion_list(value: str | None) -> tuple[str, ...] | None:
    """``--emotions all`` or a comma list; unknown names list the valid ones."""
    from moodshift.emotions import EMOTIONS, canonical_emotion

    if value is None:
        return None
    if value.strip().lower() == "all":
        return EMOTIONS
    out = []
    for word in value.split(","):
        found = canonical_emotion(word.strip())
        if found is None:
            raise UserError(f"--emotions: unknown emotion {word.strip()!r}: choose from "
                            f"{', '.join(EMOTIONS)} or all")
        out.append(found)
    return tuple(dict.fromkeys(out))


def _paths(target: str, emotions: tuple[str, ...], n: int, seed: int) -> list[Path]:
    out = Path(target)
    if len(emotions) == 1 and n == 1 and out.suffix:
        return [out]
    names = [f"{e}-{i + 1:03d}" for e in emotions for i in range(n)]
    if out.suffix:
        return [out.with_name(f"{out.stem}-{name}{out.suffix}") for name in names]
    return [out / f"generate-s{seed}-{name}.png" for name in names]


def run_stylegan_generate(args: argparse.Namespace, emotions: tuple[str, ...],
                          age: str | None, gender: str | None,
                          reading: dict | None, style_emotion: str | None,
                          style_image) -> int:
    """The stylegan branch of ``moodshift generate`` (validated options in, files out)."""
    from moodshift.emotions import EMOTION_VAD
    from moodshift.generate.stylegan.portraits import (
        MAX_SIZE,
        StyleRequest,
        draw_style_faces,
        render_style_grid,
    )
    from moodshift.imageio import check_writable_dir, save_image

    psi = args.truncation
    if args.size > MAX_SIZE:
        raise UserError(f"--size {args.size}: the stylegan generator draws at most {MAX_SIZE} px")
    if args.grid:
        sheet = render_style_grid(seed=args.seed, cell=max(96, args.size // 2), psi=psi,
                                  directions=args.directions)
        save_image(sheet, args.output, metadata={"tool": "generate", "grid": True,
                                                 "seed": args.seed, "generator": "stylegan"})
        print(json.dumps({"output": args.output, "grid": True, "shape": list(sheet.shape)})
              if args.json else f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]} grid)")
        return 0
    req = StyleRequest(emotions=emotions, age_group=age, gender=gender, n=args.n, seed=args.seed,
                       psi=psi, size=args.size, same_person=args.same_person or len(emotions) == 1,
                       directions=args.directions)
    req.check()
    paths = _paths(args.output, emotions, args.n, args.seed)
    for p in paths:
        check_writable_dir(p.parent if str(p.parent) else Path("."))
    faces = draw_style_faces(req)
    for face, path in zip(faces, paths):
        img = face.image
        styled = not args.no_style
        if styled:
            from moodshift.style import stylize_image

            strength = FACE_STYLE_STRENGTH if args.strength is None else args.strength
            img = stylize_image(img, style_emotion or face.emotion, strength=strength,
                                preserve_color=True, style_image=style_image)
        intent = {"tool": "generate", "emotion": face.emotion,
                  "target_vad": EMOTION_VAD[face.emotion].to_json(), "age_group": age,
                  "gender": gender, "seed": face.seed, "index": face.identity,
                  "generator": "stylegan", "truncation": psi,
                  "same_person": req.same_person,
                  "style": (args.style or face.emotion) if styled else None,
                  "strength": (FACE_STYLE_STRENGTH if args.strength is None else args.strength)
                  if styled else None}
        save_image(img, path, metadata=intent)
        if args.json:
            print(json.dumps(intent | {"output": str(path), "size": args.size}
                             | ({"text": reading} if reading else {}), ensure_ascii=False),
                  flush=True)
        else:
            print(f"wrote {path} ({face.emotion}, age {age or 'unspecified'}, "
                  f"gender {gender or 'unspecified'}, seed {face.seed})")
    return 0
