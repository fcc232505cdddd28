"""`moodshift train text`: the read-text classifier head (torch loads inside run)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from moodshift.cli.common import command_line, log_to_stderr


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, metavar="TSV",
                   help="training sentences, 'emotion<TAB>text' with a header "
                        "(default: the shipped data/text/train.tsv)")
    p.add_argument("--heldout", type=Path, metavar="TSV", action="append",
                   help="held-out sentences for the report, repeatable (default: "
                        "data/text/heldout*.tsv)")
    p.add_argument("--out", type=Path, default=Path("runs/text"), metavar="PATH",
                   help="folder for head.safetensors, head.json, report.json, MODEL_CARD.md "
                        "(default runs/text; the shipped head is src/moodshift/data/text)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from moodshift.imageio import check_writable_dir
    from moodshift.text.train import DEFAULT_HELDOUT, DEFAULT_TRAIN, train_head

    check_writable_dir(args.out)
    result = train_head(args.data or DEFAULT_TRAIN, args.heldout or list(DEFAULT_HELDOUT), args.out,
                        progress=not args.no_progress, log=log_to_stderr,
                        command=command_line("moodshift train text", add_arguments, args))
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(f"wrote {result.weights} (sha256 {result.sha256[:12]}...)")
        for h, n in zip(result.heldout, result.n_heldout):
            print(f"{h.name}: {h.accuracy:.1%} on {n} sentences; "
                  + ", ".join(f"{e} {v:.0%}" for e, v in h.per_class.items()))
        for a in result.ablations:
            print(f"  {a.name}: {a.accuracy:.1%}")
        print(f"report: {args.out / 'report.json'}, {args.out / 'MODEL_CARD.md'}")
    return 0
