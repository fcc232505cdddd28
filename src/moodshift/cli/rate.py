"""`moodshift rate serve` and `moodshift rate report`: arguments and printing only.

`rate serve` is `moodshift serve` (moodshift.cli.serve) with only the ratings page; the server,
numpy and matplotlib load inside the run functions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from moodshift.cli.serve import add_serve_arguments
from moodshift.cli.serve import run as run_serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rate_command", required=True, metavar="COMMAND")
    p = sub.add_parser("serve", help="web page collecting SAM ratings of a folder of images "
                                     "(moodshift serve with only the ratings page)")
    add_serve_arguments(p, ratings_only=True)
    p = sub.add_parser("report", help="compare intended emotion/VAD with the ratings")
    p.add_argument("--db", required=True, type=Path, metavar="FILE", help="ratings database")
    p.add_argument("--json", action="store_true", help="the whole report as one JSON object")
    p.add_argument("--csv", type=Path, metavar="PATH", help="write per-image summary CSV")
    p.add_argument("--ratings-csv", type=Path, metavar="PATH", help="write every rating as CSV")
    p.add_argument("--plots", type=Path, metavar="DIR",
                   help="write intended_vs_rated.png and emotion_agreement.png here")


def run(args: argparse.Namespace) -> int:
    if args.rate_command == "serve":
        return run_serve(args)  # the web app, ratings page only
    return run_report(args)


def run_report(args: argparse.Namespace) -> int:
    from moodshift.rate.report import ReportRequest, format_text, make_report

    report, written = make_report(ReportRequest(db=args.db, csv=args.csv,
                                                ratings_csv=args.ratings_csv, plots=args.plots))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
    else:
        print(format_text(report))
        for path in written:
            print(f"wrote {path}")
    return 0
