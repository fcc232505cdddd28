"""`moodshift eval gan`: emotion agreement, diversity and distance of generated faces."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.common import print_json
from moodshift.cli.generate import add_truncation
from moodshift.emotions import EMOTIONS
from moodshift.generate.gan.evaluate import JUDGES, MAX_EVAL_N, MIN_EVAL_N


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=700,
                   help="generated faces, split evenly over the emotions "
                        f"({MIN_EVAL_N}..{MAX_EVAL_N})")
    p.add_argument("--model", type=Path, help="a trained generator (default: the shipped one)")
    p.add_argument("--judge", default="moodshift", choices=JUDGES,
                   help="the independent expression classifier (none of them trained the GAN)")
    p.add_argument("--real", type=Path,
                   help="real faces <emotion>/*.jpg for the FID-style distance "
                        "(default: ../shared/datasets/fer2013/val if present)")
    p.add_argument("--seed", type=int, default=0)
    add_truncation(p)
    p.add_argument("--plot", type=Path, help="write the figures as a PNG here")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from moodshift.generate.gan.evaluate import GanEvalRequest, run_gan_eval

    gen, result = run_gan_eval(GanEvalRequest(
        n=args.n, model=args.model, judge=args.judge, real=args.real, seed=args.seed,
        truncation=args.truncation, plot=args.plot))
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"generator {gen.source}; judge {result.judge}; {result.n} faces, "
          f"truncation {result.truncation}")
    for e in EMOTIONS:
        print(f"  {e:9} read as asked: {result.per_emotion[e]:6.1%}")
    print(f"  overall   {result.overall:6.1%}  (target >= 60 %, chance 14.3 %)")
    print(f"  diversity (mean pairwise feature distance): {result.diversity:.3f}"
          f"  (real faces: {result.real_diversity:.3f})" if result.real_diversity is not None
          else f"  diversity: {result.diversity:.3f}")
    if result.fid is not None:
        print(f"  FID-style distance to {result.real_n} real faces: {result.fid:.2f}")
    if args.plot is not None:
        print(f"  plot: {args.plot}")
    return 0
