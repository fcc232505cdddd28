"""`moodshift train mood`: fit the human-rated mood model's heads (moodshift.mood.training)."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.common import command_line, log_to_stderr


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", nargs="+", required=True, type=Path, metavar="PATH",
                   help="folders with ratings.csv (OASIS 1-7 or Emotion6 1-9 + p_* layout)")
    p.add_argument("--out", required=True, type=Path, help="folder for the heads, card, plots")
    p.add_argument("--name", default="mood", help="file name stem of the model (default mood)")
    p.add_argument("--folds", type=int, default=10, help="cross-validation folds (default 10)")
    p.add_argument("--max-views", type=int, default=1,
                   help="most views per image the model may use at inference; each is one more "
                        "backbone pass (default 1)")
    p.add_argument("--backbone", default=None,
                   help="ImageNet backbone whose features the heads read: efficientnet-lite1 "
                        "(default), efficientnet-lite2 or efficientnet-lite0")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=None,
                   help="feature cache folder (default <model cache>/mood-features)")


def run(args: argparse.Namespace) -> int:
    from moodshift.mood.training.train import MoodTrainConfig, train_mood

    cfg = MoodTrainConfig(data=tuple(args.data), out=args.out, name=args.name, folds=args.folds,
                          seed=args.seed, max_views=args.max_views, cache=args.cache,
                          **({"backbone": args.backbone} if args.backbone else {}),
                          command=command_line("moodshift train mood", add_arguments, args))
    result = train_mood(cfg, progress=log_to_stderr)
    for name, s in result.metrics["cv"].items():
        print(f"{name}: n={s['n']} valence r {s['valence']['pearson_r']:.3f}, "
              f"arousal r {s['arousal']['pearson_r']:.3f} (cross-validated)")
    emo = result.metrics.get("cv_emotions")
    if emo:
        print(f"emotions: top-1 {emo['top1']:.3f}, mean KL {emo['mean_kl']:.3f} "
              "(cross-validated)")
    print(f"wrote {result.weights} (sha256 {result.sha256[:12]}…) in {result.seconds:.0f} s")
    return 0
