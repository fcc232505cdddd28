"""``moodshift train style``: a Johnson network per emotion (torch loads inside run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.common import command_line, log_to_stderr, log_to_stdout, say_interrupted
from moodshift.emotions import EMOTIONS
from moodshift.style.options import BACKBONE_CHOICES
from moodshift.training.precision import PRECISIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--style", metavar="IMG", help="the style image (a painting, a texture)")
    source.add_argument("--emotion", metavar="E",
                        help="use the palette's style image for this emotion "
                             f"({', '.join(EMOTIONS)})")
    parser.add_argument("--palette", type=Path, metavar="TOML",
                        help="palette override for --emotion")
    parser.add_argument("--content", required=True, metavar="DIR",
                        help="folder of content photos (searched recursively)")
    parser.add_argument("--out", required=True, metavar="MODEL",
                        help="model file to write (.onnx); training files go to MODEL_training/")
    parser.add_argument("--backbone", choices=BACKBONE_CHOICES,
                        default="auto", help="loss network (auto: vgg16 if its weights are in "
                                             "the torch hub cache, else mobilenet)")
    parser.add_argument("--vgg-weights", metavar="PATH", help="torchvision VGG checkpoint")
    parser.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    parser.add_argument("--size", type=int, default=256, help="crop size in px (default 256)")
    parser.add_argument("--batch", type=int, default=4, help="crops per step (default 4)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--width", type=int, default=32,
                        help="channels of the first block (32 = the paper's; 16 is 4x faster)")
    parser.add_argument("--style-size", type=int,
                        help="style image's shorter side for its Gram matrices (default --size)")
    parser.add_argument("--content-weight", type=float, help="default: the backbone's recipe")
    parser.add_argument("--style-weight", type=float, help="default: the backbone's recipe")
    parser.add_argument("--tv-weight", type=float, help="default: the backbone's recipe")
    parser.add_argument("--sample-every", type=int, default=200, metavar="K",
                        help="write a sample sheet every K steps (default 200)")
    parser.add_argument("--checkpoint-every", type=int, default=100, metavar="K",
                        help="checkpoint and export the model every K steps (default 100)")
    parser.add_argument("--resume", nargs="?", const="auto", metavar="CKPT",
                        help="continue from MODEL_training/checkpoint.pt (or the one given)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="bf16 autocast where the CPU has bf16 units (auto), or fp32")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads; 0 (default) picks 1 or 2 by measured speed")
    parser.add_argument("--fp32-weights", action="store_true",
                        help="store the ONNX weights as float32 (default float16: half size)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from moodshift.style.training.train import StyleTrainConfig, train_style

    cfg = StyleTrainConfig(
        content=args.content, out=args.out, style=args.style, emotion=args.emotion,
        palette=str(args.palette) if args.palette else None, backbone=args.backbone,
        vgg_weights=args.vgg_weights, steps=args.steps, size=args.size, batch=args.batch,
        lr=args.lr, width=args.width, style_size=args.style_size,
        content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every, resume=args.resume, seed=args.seed,
        precision=args.precision, threads=args.threads, fp16=not args.fp32_weights,
        command=command_line("moodshift train style", add_arguments, args))
    result = train_style(cfg, log=log_to_stderr if args.json else log_to_stdout)
    if args.json:
        print(json.dumps(result.to_json()), flush=True)
    if result.interrupted:
        return say_interrupted("resume with the same command and --resume")
    return 0
