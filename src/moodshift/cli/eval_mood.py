"""`moodshift eval mood`: agreement of a mood model with mean human ratings of a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, metavar="PATH",
                   help="a folder with ratings.csv (OASIS 1-7 or Emotion6 1-9 + p_* layout)")
    p.add_argument("--model", default="default",
                   help="colour, default, oasis-only, emotion6-only, or a trained .safetensors")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace) -> int:
    from moodshift.mood.evaluate import evaluate_mood

    def progress(i: int, n: int) -> None:
        if i % 100 == 0 or i == n:
            print(f"{i}/{n}", file=sys.stderr, flush=True)

    # progress on stderr with --json too: the JSON goes to stdout, and 630 images take a while
    result = evaluate_mood(args.data, args.model, progress=progress)
    print(json.dumps(result.to_json()) if args.json else result.format_text())
    return 0
