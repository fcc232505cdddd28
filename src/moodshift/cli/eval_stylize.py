"""``moodshift eval stylize``: the front end of moodshift.evaluate.stylize.

Light imports only at the top: the CLI builds every parser at start-up.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moodshift.emotions import EMOTIONS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="folder of portraits")
    p.add_argument("--emotions", default=",".join(EMOTIONS),
                   help="comma-separated targets (default: all seven)")
    p.add_argument("--engine", default="fast", choices=["fast", "optimize", "trained"])
    p.add_argument("--palette", type=Path, metavar="TOML",
                   help="palette override (e.g. its own `model` per emotion for --engine trained)")
    p.add_argument("--limit", type=int, help="only the first N photos (sorted by name)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--pairs", action="store_true", help="with --json: every photo x emotion too")
    p.add_argument("--sheet", type=Path, metavar="OUT",
                   help="contact sheet (photos x emotions) as an image file")
    p.add_argument("--sheet-photos", type=int, default=5, help="rows of the sheet (default 5)")
    p.add_argument("--background-photos", type=int, default=10,
                   help="photos whose background SSIM to the plain stylised version is measured "
                        "(one more stylisation each; default 10)")
    p.add_argument("--log", type=Path, help="JSONL of finished pairs; a rerun resumes from it")
    p.add_argument("--mood-models", default="", metavar="LIST",
                   help="more mood models whose valence (and order rate) is reported, e.g. "
                        "oasis-only,emotion6-only (one tunes a palette, the other judges it)")


def run(args: argparse.Namespace) -> int:
    from moodshift.errors import UserError
    from moodshift.evaluate.stylize import StylizeEvalConfig, evaluate_stylize, format_table
    from moodshift.imageio import check_writable_dir, save_image

    if args.sheet is not None:  # fail before the long run, not after it
        if args.sheet_photos < 1:
            raise UserError(f"--sheet-photos {args.sheet_photos}: --sheet needs at least 1 row")
        check_writable_dir(args.sheet.parent if str(args.sheet.parent) else Path("."))
    config = StylizeEvalConfig(data=args.data, emotions=tuple(
        e.strip() for e in args.emotions.split(",") if e.strip()), engine=args.engine,
        limit=args.limit, sheet_photos=args.sheet_photos if args.sheet else 0,
        background_photos=args.background_photos, log=args.log, palette=args.palette,
        mood_models=tuple(m.strip() for m in args.mood_models.split(",") if m.strip()))
    result = evaluate_stylize(config, progress=lambda m: print(m, file=sys.stderr, flush=True))
    if args.sheet is not None and result.sheet is not None:
        save_image(result.sheet, args.sheet)
    summary = result.to_json(with_pairs=args.pairs)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(format_table(summary))
    return 0
