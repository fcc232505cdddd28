"""`moodshift batch analyze|stylize|generate SRC OUT`: whole folders on local processes or Ray
(parse, run_batch, print the summary)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moodshift.cli.common import add_model_options
from moodshift.emotions import EMOTIONS
from moodshift.generate.portraits import GENERATOR_CHOICES
from moodshift.style.options import BACKBONES, ENGINE_OPTIONS, ENGINES, INITS, OPTIMIZERS


def add_arguments(p: argparse.ArgumentParser) -> None:
    tasks = p.add_subparsers(dest="batch_task", required=True, metavar="TASK")
    for task, summary in (("analyze", "faces, expressions and mood of every image"),
                          ("stylize", "restyle every image for an emotion"),
                          ("generate", "one portrait per line of a descriptions file")):
        t = tasks.add_parser(task, help=summary)
        t.add_argument("src", help="a text file of descriptions, one per line" if task == "generate"
                       else "an image, or a folder of images (sub-folders too); with --ray also "
                            "any location Ray Data reads (s3://...)")
        t.add_argument("out", help="output folder; its manifest.jsonl gets one JSON line per item")
        g = t.add_argument_group("where it runs")
        g.add_argument("--ray", metavar="auto|local|ADDRESS",
                       help="run on Ray: auto (a running cluster, else a local one), local, or a "
                            "cluster address host:port; without it: local processes")
        g.add_argument("--workers", type=int, help="worker processes or actors "
                                                    "(default: one per CPU)")
        g.add_argument("--batch-size", type=int, default=4, help="items per task (default 4)")
        g.add_argument("--threads", type=int, help="compute threads per worker "
                                                    "(default: CPUs / workers)")
        g.add_argument("--resume", action="store_true",
                       help="continue an interrupted run: skip items done with the same content "
                            "and settings")
        g.add_argument("--json", action="store_true", help="print the summary as JSON")
        g.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="a progress bar on stderr (default: only when stderr is a "
                            "terminal; --progress also into a log file)")
        if task != "generate":
            add_model_options(t)
        if task == "analyze":
            t.add_argument("--annotate", action="store_true",
                           help="also write each photo with labelled boxes")
        if task == "stylize":
            t.add_argument("--emotion", required=True, metavar="auto|" + "|".join(EMOTIONS),
                           help="target emotion, auto (each photo's own) or a blend "
                                "happy:0.7,sad:0.3")
            t.add_argument("--strength", type=float, help="0 (unchanged) .. 1 (full style)")
            t.add_argument("--preserve-color", action="store_true")
            t.add_argument("--style-image", type=Path, help="use this painting's style")
            t.add_argument("--palette", type=Path, help="TOML file overriding the palette")
            t.add_argument("--engine", default="fast", choices=ENGINES)
            e = t.add_argument_group("optimize and trained engines (as in `moodshift stylize`)")
            e.add_argument("--steps", type=int, help="optimize: optimisation steps")
            e.add_argument("--size", type=int, help="longer side in pixels the engine works at")
            e.add_argument("--backbone", choices=BACKBONES, help="optimize: feature network")
            e.add_argument("--optimizer", choices=[o for o in OPTIMIZERS if o != "auto"])
            e.add_argument("--time-budget", type=float, metavar="SECONDS",
                           help="optimize: stop each image after this many seconds")
            e.add_argument("--init", choices=INITS, help="optimize: starting image")
            e.add_argument("--vgg-weights", type=Path, metavar="PATH")
            e.add_argument("--model", type=Path, help="trained: a network from `train style`")
        if task == "generate":
            t.add_argument("--emotion", help="override the emotion read from each line")
            t.add_argument("--seed", type=int, default=0, help="random seed for every line")
            t.add_argument("--size", type=int, default=256, help="output side in pixels")
            t.add_argument("--strength", type=float, help="style strength 0..1")
            t.add_argument("--generator", choices=GENERATOR_CHOICES,
                           help="as `moodshift generate --generator` (default stylegan: "
                                "photoreal, research / non-commercial licence; cgan: "
                                "moodshift's conditional GAN, MIT)")


def run(args: argparse.Namespace) -> int:
    from moodshift.batch import BatchConfig, run_batch

    task = args.batch_task
    extra: dict[str, object] = {}
    if task == "stylize":
        extra = {"emotion": args.emotion, "strength": args.strength,
                 "preserve_color": args.preserve_color, "style_image": args.style_image,
                 "palette": args.palette, "engine": args.engine,
                 "engine_options": {k: getattr(args, k) for opts in ENGINE_OPTIONS.values()
                                    for k in opts if getattr(args, k) is not None}}
    elif task == "generate":
        extra = {"emotion": args.emotion, "seed": args.seed, "size": args.size,
                 "strength": args.strength, "generator": args.generator}
    if task != "generate":
        extra |= {"detector": args.detector, "expression_model": args.expression_model}
    if task == "analyze":
        extra["annotate"] = args.annotate
    config = BatchConfig(task, args.src, args.out, ray=args.ray, workers=args.workers,
                         batch_size=args.batch_size, threads=args.threads, resume=args.resume,
                         **extra)
    summary = run_batch(config, progress=args.progress)
    if args.json:
        print(json.dumps(summary.to_json()), flush=True)
    print(f"{summary.done} done, {summary.failed} failed, {summary.skipped} skipped of "
          f"{summary.items} in {summary.seconds:.1f} s ({summary.items_per_second:.2f}/s, "
          f"{summary.workers} workers on {summary.runner}); manifest {summary.manifest}",
          file=sys.stderr if args.json else sys.stdout)
    return 2 if summary.failed else 0
