"""`moodshift models pull|list|verify|quantize`: the model store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from moodshift.cli.common import log_to_stderr, print_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    msub = p.add_subparsers(dest="models_command", required=True, metavar="COMMAND")
    pp = msub.add_parser("pull", help="fetch and convert third-party networks")
    pp.add_argument("--force", action="store_true", help="fetch again even if cached")
    for name in ("list", "verify"):
        lp = msub.add_parser(name, help=f"{name} cached models")
        lp.add_argument("--json", action="store_true",
                        help="one JSON line per model instead of a table")
    qp = msub.add_parser("quantize", help="int8 version of the shipped expression model")
    qp.add_argument("--data", required=True, help="training data to calibrate on (FER2013 tree)")
    qp.add_argument("--n", type=int, default=512, help="calibration faces (default 512)")
    qp.add_argument("--seed", type=int, default=0, help="which calibration faces (default 0)")
    qp.add_argument("-o", "--output", type=Path, required=True, help="the int8 ONNX file")
    qp.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    if args.models_command == "quantize":
        return run_quantize(args)
    from moodshift.models import registry
    from moodshift.models.store import cache_dir

    if args.models_command == "pull":
        states = registry.pull(force=args.force, log=log_to_stderr)
    else:
        states = registry.status(check_sums=args.models_command == "verify")
    if getattr(args, "json", False):
        for s in states:
            print_json(s.to_json())
    else:
        print(f"cache: {cache_dir()}")
        print(f"{'model':28} {'kind':11} {'status':8} {'size':>9}  {'licence':8} source")
        for s in states:
            size = f"{s.size / 1e6:.1f} MB" if s.size else "-"
            print(f"{s.info.name:28} {s.info.kind:11} {s.status:8} {size:>9}  "
                  f"{s.info.licence:8} {s.info.source}")
    missing = [s.info.name for s in states if s.status != "ok"]
    if args.models_command == "verify" and missing:
        print(f"moodshift: error: not ok: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.models_command == "pull" and any(s.info.name == "faceapi-ssd" for s in states
                                             if s.status != "ok"):
        print("moodshift: warning: face-api models missing; face detection falls back to "
              "OpenCV's Haar cascade", file=sys.stderr)
    return 0


def run_quantize(args: argparse.Namespace) -> int:
    from moodshift.expression.training.quantize import quantize_shipped

    result = quantize_shipped(args.data, args.output, n=args.n, seed=args.seed,
                              log=log_to_stderr)
    if args.json:
        print_json(result.to_json())
    return 0
