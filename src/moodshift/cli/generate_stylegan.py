"""The ``--generator stylegan`` branch of `moodshift generate` (options parsed by generate.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.common import print_json
from moodshift.errors import UserError


def output_paths(target: str, names: list[str], seed: int) -> list[Path]:
    out = Path(target)
    if len(names) == 1 and out.suffix:
        return [out]
    if out.suffix:
        return [out.with_name(f"{out.stem}-{name}{out.suffix}") for name in names]
    return [out / f"generate-s{seed}-{name}.png" for name in names]


def run_stylegan(args: argparse.Namespace) -> int:
    from moodshift.generate.portraits import read_request, style_source
    from moodshift.generate.stylegan.portraits import (
        StyleRequest,
        output_names,
        parse_emotion_list,
        render_style_grid,
        style_portraits,
    )
    from moodshift.imageio import check_writable_dir, save_image

    if args.output == "-":
        raise UserError("-o -: generate writes image files; give a file or folder name")
    if args.strength is not None and not 0.0 <= args.strength <= 1.0:
        raise UserError(f"--strength {args.strength}: must be between 0 and 1")
    if args.same_person and not args.emotions:
        raise UserError("--same-person goes with --emotions (e.g. --emotions all)")
    emotion, age, gender, reading = read_request(args.text, args.emotion, args.age, args.gender)
    emotions = parse_emotion_list(args.emotions) or ((emotion,) if emotion else ())
    req = StyleRequest(emotions=(emotions or ("neutral",)) if args.grid else emotions,
                       age_group=age, gender=gender, n=args.n, seed=args.seed,
                       psi=args.truncation, size=args.size,
                       same_person=args.same_person or len(emotions) == 1,
                       directions=args.directions, edit_weak=args.expression_edit)
    req.check()
    style_emotion, style_image = style_source(args.style)
    if args.grid:
        check_writable_dir(Path(args.output).parent)
        sheet = render_style_grid(seed=args.seed, cell=max(96, args.size // 2), psi=req.psi,
                                  directions=args.directions, edit_weak=args.expression_edit)
        save_image(sheet, args.output, metadata={"tool": "generate", "grid": True,
                                                 "seed": args.seed, "generator": "stylegan"})
        if args.json:
            print_json({"output": args.output, "grid": True, "shape": list(sheet.shape)})
        else:
            print(f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]} grid)")
        return 0
    paths = output_paths(args.output, output_names(req.emotions, req.n), args.seed)
    for p in paths:
        check_writable_dir(p.parent if str(p.parent) else Path("."))
    portraits = style_portraits(req, styled=not args.no_style, style_emotion=style_emotion,
                                style_image=style_image, style_label=args.style,
                                strength=args.strength)
    for portrait, path in zip(portraits, paths):
        save_image(portrait.image, path, metadata=portrait.intent)
        if args.json:
            print_json(portrait.intent | {"output": str(path), "size": args.size}
                       | ({"text": reading} if reading else {}))
        else:
            print(f"wrote {path} ({portrait.intent['emotion']}, age {age or 'unspecified'}, "
                  f"gender {gender or 'unspecified'}, seed {portrait.intent['seed']})")
    return 0
