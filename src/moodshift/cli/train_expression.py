"""Command line of ``moodshift train expression`` (the training itself is in train.py)."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Callable

from moodshift.errors import UserError


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
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


def run_train_command(args: argparse.Namespace, log: Callable[[str], None] = print) -> int:
    """Run ``moodshift train expression`` from parsed arguments; returns the exit code."""
    command = "moodshift train expression " + " ".join(
        shlex.quote(a) for a in _argv_from(args))
    from moodshift.expression.train import TrainConfig, train_expression

    cfg = TrainConfig(data=args.data, arch=args.arch, out=args.out, epochs=args.epochs,
                      batch=args.batch, lr=args.lr, img_size=args.img_size, balance=args.balance,
                      resume=args.resume, width=args.width, seed=args.seed,
                      precision=args.precision, threads=args.threads, command=command,
                      init=args.init, teachers=list(args.teacher),
                      distill_weight=args.distill_weight,
                      distill_temperature=args.distill_temperature)
    result = train_expression(cfg, log=log)
    return 130 if result.interrupted else 0


def _argv_from(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    defaults = {"seed": 0, "precision": "auto", "threads": 0}
    for key in ("data", "arch", "out", "epochs", "batch", "lr", "img_size", "balance", "resume",
                "width", "seed", "precision", "threads", "init", "teacher", "distill_weight",
                "distill_temperature"):
        value = getattr(args, key, None)
        if value is None or value == [] or (key in defaults and value == defaults[key]):
            continue
        values = value if isinstance(value, list) else [value]
        out += [f"--{key.replace('_', '-')}", *(str(v) for v in values)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="moodshift train expression")
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_train_command(args, log=lambda m: print(m, flush=True))
    except UserError as exc:
        print(f"moodshift: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
