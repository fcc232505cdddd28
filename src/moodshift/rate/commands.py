"""`moodshift rate serve` and `moodshift rate report`: arguments and printing only.

Imports at the top stay light (argparse, pathlib, moodshift.errors): the server, numpy and
matplotlib load inside the run functions. `rate serve` is `moodshift serve` with only the
ratings page (moodshift.web).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from moodshift.errors import UserError
from moodshift.web.commands import add_serve_arguments, run_serve


def add_rate_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rate_command", required=True)
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


def run_rate(args: argparse.Namespace) -> int:
    if args.rate_command == "serve":
        return run_serve(args)  # the web app, ratings page only
    return run_report(args)


def run_report(args: argparse.Namespace) -> int:
    from moodshift.imageio import atomic_write_text, check_writable_dir
    from moodshift.rate.db import RatingStore
    from moodshift.rate.report import format_text, ratings_csv, report_csv, summarize, write_plots

    # Check every output location first: a bad one fails before anything is written.
    for path in (args.csv, args.ratings_csv):
        if path is not None:
            if path.is_dir():
                raise UserError(f"{path}: is a folder, expected a CSV file name")
            # Only .csv names: a slip like `--csv study/img.png` must not overwrite an input.
            if path.suffix.lower() != ".csv":
                raise UserError(f"{path}: expected a file name ending in .csv")
            check_writable_dir(path.parent if str(path.parent) else Path("."))
    if args.csv is not None and args.ratings_csv is not None \
            and args.csv.resolve() == args.ratings_csv.resolve():
        raise UserError(f"{args.csv}: --csv and --ratings-csv must be different files")
    if args.plots is not None:
        check_writable_dir(args.plots)
    if args.db.resolve() in {p.resolve() for p in (args.csv, args.ratings_csv) if p}:
        raise UserError(f"{args.db}: refusing to overwrite the database with a CSV")

    store = RatingStore(args.db, create=False)
    images, ratings = store.images(), store.ratings()
    report = summarize(images, ratings, str(args.db))
    if args.csv is not None:
        atomic_write_text(args.csv, report_csv(report))
    if args.ratings_csv is not None:
        atomic_write_text(args.ratings_csv, ratings_csv(ratings, images))
    plots = write_plots(report, args.plots) if args.plots is not None else []
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
    else:
        print(format_text(report))
        for path in [args.csv, args.ratings_csv, *plots]:
            if path is not None:
                print(f"wrote {path}")
    return 0
