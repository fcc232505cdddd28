"""``moodshift train expression``: an expression classifier on labelled faces."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.common import command_line, log_to_stdout, say_interrupted
from moodshift.training.precision import PRECISIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``moodshift train expression``."""
    from moodshift.expression import nets

    parser.add_argument("--data", required=True,
                        help="labelled faces: class-folder tree, train/val tree, FER2013 CSV, "
                             "ExpW folder or folder with labels.csv")
    parser.add_argument("--arch", default="msnet", choices=sorted(nets.ARCHS),
                        help="architecture (default msnet)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--epochs", type=int, help="epochs (default: the arch's recipe)")
    parser.add_argument("--batch", type=int, help="batch size (default: the arch's recipe)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the recipe)")
    parser.add_argument("--img-size", type=int, help="network input size (default: the recipe)")
    parser.add_argument("--balance", choices=["rotate", "weights", "none"],
                        help="class balancing (default: the recipe)")
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint.pt")
    parser.add_argument("--width", type=int, help="msnet width (default 32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="bf16 autocast where the CPU has bf16 units (auto), or fp32")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads; 0 (default) picks 1 or 2 by measured speed")
    parser.add_argument("--init", metavar="MODEL",
                        help="start from a trained model's weights (checkpoint, safetensors or "
                             "folder), with a fresh optimiser and schedule")
    parser.add_argument("--teacher", nargs="+", metavar="MODEL", default=[],
                        help="distil from these trained models (their averaged probabilities); "
                             "give the .safetensors or the run folder: a checkpoint.pt still "
                             "has training-time batch-norm statistics")
    parser.add_argument("--distill-weight", type=float,
                        help="share of the distillation loss, 0..1 (default 0.5, or the "
                             "resumed run's)")
    parser.add_argument("--distill-temperature", type=float,
                        help="softmax temperature of the distillation (default 2, or the "
                             "resumed run's)")


def run(args: argparse.Namespace) -> int:
    """Run ``moodshift train expression`` from parsed arguments; returns the exit code."""
    from moodshift.expression.training.train import TrainConfig, train_expression

    cfg = TrainConfig(data=args.data, arch=args.arch, out=args.out, epochs=args.epochs,
                      batch=args.batch, lr=args.lr, img_size=args.img_size, balance=args.balance,
                      resume=args.resume, width=args.width, seed=args.seed,
                      precision=args.precision, threads=args.threads,
                      command=command_line("moodshift train expression", add_arguments, args),
                      init=args.init, teachers=list(args.teacher),
                      distill_weight=args.distill_weight,
                      distill_temperature=args.distill_temperature)
    result = train_expression(cfg, log=log_to_stdout)
    if result.interrupted:
        return say_interrupted(f"resume with --resume {Path(args.out) / 'checkpoint.pt'}")
    return 0
