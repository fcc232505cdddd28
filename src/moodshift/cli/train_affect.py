"""``moodshift train affect-generator``: command-line options and runner (torch loads inside
run)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from moodshift.cli.common import command_line, log_to_stderr, log_to_stdout, say_interrupted
from moodshift.generate.affect.nets import IMAGE_SIZES, KINDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Train a conditional generator (noise + target in, image out) only to "
                          "make a frozen model agree with the target: moodshift's expression "
                          "classifier (--target emotion) or its colour mood model (--target vad).")
    parser.add_argument("--target", required=True, choices=KINDS,
                        help="condition on an emotion (7 classes) or a valence/arousal/dominance "
                             "vector")
    parser.add_argument("--out", required=True, metavar="MODEL", help="output folder")
    parser.add_argument("--steps", type=int, default=800, help="training steps (default 800)")
    parser.add_argument("--batch", type=int, default=8,
                        help="conditions per step, each with two noise vectors (default 8)")
    parser.add_argument("--lr", type=float, default=5e-3, help="Adam learning rate")
    parser.add_argument("--image-size", type=int, default=48, choices=IMAGE_SIZES,
                        help="output size in pixels (default 48: the classifier's stored size)")
    parser.add_argument("--width", type=int, default=24, help="generator width (default 24)")
    parser.add_argument("--z-dim", type=int, default=64, help="noise dimensions (default 64)")
    parser.add_argument("--diversity-weight", type=float, default=0.02,
                        help="weight of the mode-seeking diversity term (default 0.02)")
    parser.add_argument("--tv-weight", type=float, default=0.2,
                        help="weight of the total-variation smoothness term (default 0.2)")
    parser.add_argument("--saturation-weight", type=float, default=0.005,
                        help="weight of the penalty on large pre-sigmoid outputs, which keeps "
                             "images off pure black/white where no gradient flows (0.005)")
    parser.add_argument("--classifier", default="moodshift",
                        help="frozen expression model trained against (emotion targets): "
                             "moodshift (shipped msnet) or a `train expression` output")
    parser.add_argument("--judge", default="fer,faceapi",
                        help="independent judges for the report, comma-separated "
                             "(fer, faceapi; 'none' to skip)")
    parser.add_argument("--eval-samples", type=int, default=64,
                        help="samples per target in the report (default 64)")
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint.pt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (default 1: fastest on a shared 2-core machine)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from moodshift.generate.affect.train import AffectTrainConfig, train_affect_generator

    judges = [j.strip() for j in str(args.judge).split(",") if j.strip()]
    cfg = AffectTrainConfig(
        kind=args.target, out=args.out, classifier=args.classifier, steps=args.steps,
        batch=args.batch, lr=args.lr, z_dim=args.z_dim, width=args.width,
        image_size=args.image_size, diversity_weight=args.diversity_weight,
        tv_weight=args.tv_weight, saturation_weight=args.saturation_weight, judges=judges,
        eval_samples=args.eval_samples, seed=args.seed,
        resume=args.resume, threads=args.threads, command=command_line("moodshift train affect-generator", add_arguments, args))
    result = train_affect_generator(cfg, log=log_to_stderr if args.json else log_to_stdout)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    if result.interrupted:
        return say_interrupted(f"resume with --resume {Path(args.out) / 'checkpoint.pt'}")
    return 0
