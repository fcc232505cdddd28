"""`moodshift rate serve` and `moodshift rate report`: arguments and printing only.

The server, numpy and matplotlib load inside the run functions.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rate_command", required=True)
    p = sub.add_parser("serve", help="web page collecting SAM ratings of a folder of images")
    p.add_argument("--images", required=True, type=Path, metavar="DIR",
                   help="folder of images to rate (not recursive)")
    p.add_argument("--db", required=True, type=Path, metavar="FILE",
                   help="SQLite ratings database (created if missing)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (0: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: this machine only)")
    p.add_argument("--log", action="store_true", help="log each request to stderr")
    p = sub.add_parser("report", help="compare intended emotion/VAD with the ratings")
    p.add_argument("--db", required=True, type=Path, metavar="FILE", help="ratings database")
    p.add_argument("--json", action="store_true", help="the whole report as one JSON object")
    p.add_argument("--csv", type=Path, metavar="PATH", help="write per-image summary CSV")
    p.add_argument("--ratings-csv", type=Path, metavar="PATH", help="write every rating as CSV")
    p.add_argument("--plots", type=Path, metavar="DIR",
                   help="write intended_vs_rated.png and emotion_agreement.png here")


def run(args: argparse.Namespace) -> int:
    if args.rate_command == "serve":
        return run_serve(args)
    return run_report(args)


def run_serve(args: argparse.Namespace) -> int:
    from moodshift.rate.server import make_server

    server = make_server(args.images, args.db, host=args.host, port=args.port,
                         quiet=not args.log)
    print(f"moodshift rate: {len(server.images)} image(s) from {args.images}, ratings in "
          f"{args.db}", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"moodshift rate: warning: bound to {args.host}; anyone who can reach this "
              "address can submit ratings", file=sys.stderr)
    print(f"moodshift rate: open {server.url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    previous = _stop_on_sigterm()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # Ctrl-C is the normal way to stop; each rating was committed when it arrived
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(f"moodshift rate: stopped; {server.store.count()} rating(s) in {args.db}",
          file=sys.stderr)
    return 0


def _stop_on_sigterm():
    """Treat SIGTERM (service managers, `kill`) like Ctrl-C: stop cleanly, report the count."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (e.g. embedded in a test): leave signals alone
        return None


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
