"""``moodshift train directions`` (front end; the work is in moodshift.generate.stylegan.train)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moodshift.errors import UserError


def add_train_directions_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True,
                   help="output folder (directions.safetensors, MODEL_CARD.md, checkpoints); "
                        "rerun with the same folder to resume")
    p.add_argument("--samples", type=int, default=600,
                   help="generated faces to label (default 600; ~1.5-3 s each on 2 cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=0.7, metavar="PSI",
                   help="truncation toward the mean style (default 0.7)")
    p.add_argument("--checkpoint-every", type=int, default=25, metavar="FACES")
    p.add_argument("--calibration-faces", type=int, default=6,
                   help="held-out faces per emotion and position when calibrating (default 6)")
    p.add_argument("--threads", type=int, help="OpenVINO CPU threads (default: all)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run_train_directions(args: argparse.Namespace) -> int:
    from moodshift.generate.stylegan.train import (
        DirectionsConfig,
        DirectionsInterrupted,
        command_line,
        train_directions,
    )

    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads {args.threads}: must be >= 1")
    cfg = DirectionsConfig(samples=args.samples, seed=args.seed, psi=args.truncation,
                           checkpoint_every=args.checkpoint_every,
                           calibration_faces=args.calibration_faces, threads=args.threads)
    cfg.check()
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    try:
        result = train_directions(args.out, cfg, log=log, show_progress=not args.no_progress,
                                  command=command_line())
    except DirectionsInterrupted as stop:
        print(f"moodshift: interrupted ({max(stop.done, 0)} faces labelled and saved); resume "
              f"with the same command", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result.to_json()), flush=True)
    else:
        print(f"labelled {result.samples} faces in {result.seconds / 60:.1f} min; directions: "
              f"{args.out / 'directions.safetensors'} (sha256 {result.sha256[:12]}…)")
        for name, acc in result.accuracy.items():
            print(f"  {name:9} held-out accuracy {acc:.1%}")
    return 0
