"""`moodshift train directions`: emotion, age and gender directions in MobileStyleGAN's style
space (the work is in moodshift.generate.stylegan.train)."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.common import (
    command_line,
    log_to_stderr,
    log_to_stdout,
    print_json,
    say_interrupted,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True,
                   help="output folder (directions.safetensors, MODEL_CARD.md, checkpoints); "
                        "rerun with the same folder to resume")
    p.add_argument("--samples", type=int, default=600,
                   help="generated faces to label (40..20000, default 600; ~1.5-5 s each on "
                        "2 cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=0.7, metavar="PSI",
                   help="truncation toward the mean style (default 0.7)")
    p.add_argument("--checkpoint-every", type=int, default=25, metavar="FACES")
    p.add_argument("--calibration-faces", type=int, default=6,
                   help="held-out faces per emotion and position when calibrating (default 6)")
    p.add_argument("--recalibrate", choices=["age", "gender"],
                   help="only redo calibrations of existing directions (--directions) and write "
                        "them to --out, no labelling, no fitting: age (then gender, which "
                        "depends on it) or gender")
    p.add_argument("--directions", type=Path, metavar="PATH",
                   help="with --recalibrate: the directions file or folder to start from "
                        "(default: the shipped directions)")
    p.add_argument("--threads", type=int, help="OpenVINO CPU threads (default: all)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from moodshift.errors import UserError
    from moodshift.generate.stylegan.train import (
        DirectionsConfig,
        DirectionsInterrupted,
        recalibrate,
        train_directions,
    )

    cfg = DirectionsConfig(samples=args.samples, seed=args.seed, psi=args.truncation,
                           checkpoint_every=args.checkpoint_every,
                           calibration_faces=args.calibration_faces, threads=args.threads)
    cfg.check()
    if args.directions is not None and args.recalibrate is None:
        raise UserError("--directions: only with --recalibrate (a full run fits its own)")
    log = log_to_stderr if args.json else log_to_stdout
    command = command_line("moodshift train directions", add_arguments, args)
    try:
        if args.recalibrate is not None:
            result = recalibrate(args.out, cfg, args.recalibrate, args.directions, log,
                                 not args.no_progress, command)
        else:
            result = train_directions(args.out, cfg, log=log,
                                      show_progress=not args.no_progress, command=command)
    except DirectionsInterrupted as stop:
        saved = (f"{stop.done} faces labelled" if stop.done >= 0
                 else "the calibrated groups")   # stopped while calibrating
        return say_interrupted(f"{saved} saved; resume with the same command")
    if args.json:
        print_json(result.to_json())
    else:
        done = (f"recalibrated {'age and gender' if args.recalibrate == 'age' else 'gender'}"
                if args.recalibrate else f"labelled {result.samples} faces")
        print(f"{done} in {result.seconds / 60:.1f} min; directions: "
              f"{args.out / 'directions.safetensors'} (sha256 {result.sha256[:12]}…)")
        for name, acc in result.accuracy.items():
            print(f"  {name:9} held-out accuracy {acc:.1%}")
    return 0
