"""`moodshift train gan`: the conditional portrait GAN (torch loads inside run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from moodshift.cli.common import command_line, print_json, say_interrupted


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True,
                   help="FER-style folder <emotion>/*.jpg, or a CelebA folder "
                        "(list_attr_celeba.txt + img_align_celeba/)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--steps", type=int, default=6000, help="generator updates (default 6000)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--time-budget", type=float, metavar="MINUTES",
                   help="stop (and export) after this many minutes")
    p.add_argument("--limit-per-class", type=int, help="use at most this many images per emotion")
    p.add_argument("--checkpoint-every", type=int, default=250, metavar="STEPS")
    p.add_argument("--resume", type=Path, help="checkpoint.pt (or its folder) to continue")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from moodshift.generate.gan.train import GanConfig, train_gan

    cfg = GanConfig(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                    checkpoint_every=args.checkpoint_every, time_budget_min=args.time_budget,
                    limit_per_class=args.limit_per_class, threads=args.threads)
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    result = train_gan(args.data, args.out, cfg, resume=args.resume, log=log,
                       show_progress=not args.no_progress,
                       command=command_line("moodshift train gan", add_arguments, args))
    if result.interrupted:
        return say_interrupted(f"stopped at step {result.steps}; resume with --resume {args.out}")
    if args.json:
        print_json(result.to_json())
    else:
        print(f"trained {result.steps} steps in {result.seconds / 60:.1f} min; "
              f"generator: {args.out / 'generator.safetensors'}")
    return 0
