"""``moodshift train mood`` and ``moodshift eval mood``: parse, call the library, print."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def add_train_mood_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", nargs="+", required=True, type=Path, metavar="PATH",
                   help="folders with ratings.csv (OASIS 1-7 or Emotion6 1-9 + p_* layout)")
    p.add_argument("--out", required=True, type=Path, help="folder for the heads, card, plots")
    p.add_argument("--name", default="mood", help="file name stem of the model (default mood)")
    p.add_argument("--folds", type=int, default=10, help="cross-validation folds (default 10)")
    p.add_argument("--max-views", type=int, default=2,
                   help="most views per image the model may use at inference (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=None,
                   help="feature cache folder (default <model cache>/mood-features)")


def run_train_mood(args: argparse.Namespace) -> int:
    from moodshift.mood.training.train import MoodTrainConfig, train_mood

    command = "moodshift " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    cfg = MoodTrainConfig(data=tuple(args.data), out=args.out, name=args.name, folds=args.folds,
                          seed=args.seed, max_views=args.max_views, cache=args.cache,
                          command=command)
    result = train_mood(cfg, progress=lambda line: print(line, file=sys.stderr, flush=True))
    for name, s in result.metrics["cv"].items():
        print(f"{name}: n={s['n']} valence r {s['valence']['pearson_r']:.3f}, "
              f"arousal r {s['arousal']['pearson_r']:.3f} (cross-validated)")
    emo = result.metrics.get("cv_emotions")
    if emo:
        print(f"emotions: top-1 {emo['top1']:.3f}, mean KL {emo['mean_kl']:.3f} "
              "(cross-validated)")
    print(f"wrote {result.weights} (sha256 {result.sha256[:12]}…) in {result.seconds:.0f} s")
    return 0


def add_eval_mood_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, metavar="PATH",
                   help="a folder with ratings.csv (OASIS 1-7 or Emotion6 1-9 + p_* layout)")
    p.add_argument("--model", default="default",
                   help="colour, default, oasis-only, emotion6-only, or a trained .safetensors")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")


def run_eval_mood(args: argparse.Namespace) -> int:
    from moodshift.mood.evaluate import evaluate_mood

    def progress(i: int, n: int) -> None:
        if i % 100 == 0 or i == n:
            print(f"{i}/{n}", file=sys.stderr, flush=True)

    result = evaluate_mood(args.data, args.model, progress=None if args.json else progress)
    print(json.dumps(result.to_json()) if args.json else result.format_text())
    return 0
