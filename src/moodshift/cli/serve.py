"""`moodshift serve` (and `moodshift rate serve`, its ratings-only alias): arguments, the
start-up lines and the warning for a public address; the app is moodshift.web.app.

Light imports only at the top: uvicorn, FastAPI and the models load inside run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from moodshift.errors import UserError


def add_serve_arguments(p: argparse.ArgumentParser, ratings_only: bool = False) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (0: any free port)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes, each loading the models once (default 1)")
    db_flags = ["--ratings-db"] + (["--db"] if ratings_only else [])
    p.add_argument(*db_flags, dest="ratings_db", type=Path, metavar="FILE",
                   required=ratings_only,
                   help="SQLite database of the rating study (created if missing)")
    p.add_argument("--images", type=Path, metavar="DIR", required=ratings_only,
                   help="folder of images to rate (not recursive)")
    p.add_argument("--max-upload-mb", type=float, default=20.0, metavar="MB",
                   help="largest request body accepted (default 20; larger: 413)")
    p.add_argument("--max-megapixels", type=float, default=16.0, metavar="MP",
                   help="largest image accepted (default 16; larger: 413)")
    p.add_argument("--threads", type=int, default=2,
                   help="requests computing at once per worker (default 2)")
    p.add_argument("--queue", type=int, default=32,
                   help="requests waiting per worker before answering 503 (default 32)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="per-request time limit (default 120)")
    p.add_argument("--log", action="store_true", help="log each request to stderr")
    p.set_defaults(pages=("ratings",) if ratings_only else None)


def settings_from(args: argparse.Namespace):
    from moodshift.web.settings import PAGES, WebSettings

    if args.max_upload_mb <= 0 or args.max_megapixels <= 0:
        raise UserError("--max-upload-mb and --max-megapixels must be positive")
    return WebSettings(host=args.host, port=args.port, workers=args.workers,
                       pages=args.pages or PAGES, ratings_db=args.ratings_db,
                       images=args.images, max_upload_bytes=int(args.max_upload_mb * 2**20),
                       max_pixels=int(args.max_megapixels * 1e6), threads=args.threads,
                       queue=args.queue, request_timeout=args.timeout, log=args.log)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_serve_arguments(p)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    # Optimize jobs report progress to the page; no progress bars in the server's log.
    os.environ.setdefault("TQDM_DISABLE", "1")
    count = 0
    if settings.images is not None:  # check the study now: bad input is one line, exit 2
        from moodshift.rate.study import scan_images

        count = len(scan_images(settings.images)[0])
    from moodshift.web.server import serve

    def announce(live) -> None:
        if live.images is not None:
            print(f"moodshift serve: rating study: {count} image(s) from {live.images}, "
                  f"ratings in {live.ratings_db}", file=sys.stderr)
        if not live.loopback:
            print(f"moodshift serve: warning: bound to {live.host}; anyone who can reach this "
                  "address can use the studio and submit ratings", file=sys.stderr)
        print(f"moodshift serve: open {live.url} (Ctrl-C to stop)", file=sys.stderr, flush=True)

    serve(settings, announce)
    if settings.ratings_db is not None and settings.ratings_db.exists():
        from moodshift.rate.db import RatingStore

        count = RatingStore(settings.ratings_db).count()
        print(f"moodshift serve: stopped; {count} rating(s) in {settings.ratings_db}",
              file=sys.stderr)
    else:
        print("moodshift serve: stopped", file=sys.stderr)
    return 0
