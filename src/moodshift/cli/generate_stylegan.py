"""The ``--generator stylegan`` branch of `moodshift generate` (options parsed by generate.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.candidates import candidate_fields
from moodshift.cli.common import print_json, say_text_note, style_files
from moodshift.errors import UserError


def output_paths(target: str, names: list[str], seed: int) -> list[Path]:
    out = Path(target)
    if len(names) == 1 and out.suffix:
        return [out]
    if out.suffix:
        return [out.with_name(f"{out.stem}-{name}{out.suffix}") for name in names]
    return [out / f"generate-s{seed}-{name}.png" for name in names]


def run_stylegan(args: argparse.Namespace) -> int:
    from moodshift.generate.portraits import style_source
    from moodshift.generate.stylegan.portraits import (
        output_names,
        render_style_grid,
        steered_portrait_request,
        style_portraits,
    )
    from moodshift.imageio import check_writable_dir, save_image
    from moodshift.outputs import refuse_overwriting

    if args.output == "-":
        raise UserError("-o -: generate writes image files; give a file or folder name")
    req, reading = steered_portrait_request(
        args.text, args.emotion, args.age, args.gender, emotions=args.emotions,
        same_person=args.same_person, grid=args.grid, n=args.n, seed=args.seed,
        psi=args.truncation, size=args.size, directions=args.directions,
        expression_edit=args.expression_edit is not False, strength=args.strength,
        **candidate_fields(args))
    say_text_note(args, reading)
    age, gender = req.age_group, req.gender
    style_emotion, style_image = style_source(args.style)
    if args.grid:
        refuse_overwriting([args.output], style_files(args))
        check_writable_dir(Path(args.output).parent)
        sheet = render_style_grid(seed=args.seed, cell=max(96, args.size // 2), psi=req.psi,
                                  directions=args.directions,
                                  expression_edit=args.expression_edit is not False)
        save_image(sheet, args.output, metadata={"tool": "generate", "grid": True,
                                                 "seed": args.seed, "generator": "stylegan"})
        if args.json:
            print_json({"output": args.output, "grid": True, "shape": list(sheet.shape)})
        else:
            print(f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]} grid)")
        return 0
    paths = output_paths(args.output, output_names(req.emotions, req.n), args.seed)
    refuse_overwriting([str(p) for p in paths], style_files(args))
    for p in paths:
        check_writable_dir(p.parent if str(p.parent) else Path("."))
    portraits = style_portraits(req, styled=not args.no_style, style_emotion=style_emotion,
                                style_image=style_image, style_label=args.style)
    for portrait, path in zip(portraits, paths):
        save_image(portrait.image, path, metadata=portrait.intent)
        if args.json:
            print_json(portrait.intent | {"output": str(path), "size": args.size}
                       | ({"text": reading} if reading else {}))
        else:
            print(f"wrote {path} ({portrait.intent['emotion']}, age {age or 'unspecified'}, "
                  f"gender {gender or 'unspecified'}, seed {portrait.intent['seed']})")
    return 0
