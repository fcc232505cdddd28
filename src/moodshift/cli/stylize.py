"""`moodshift stylize`: restyle images to express an emotion."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from moodshift.cli.common import add_model_options, for_each_image, print_json
from moodshift.emotions import EMOTIONS, EmotionMix
from moodshift.errors import UserError
from moodshift.style.options import BACKBONES, ENGINE_OPTIONS, ENGINES, INITS, OPTIMIZERS

# stylize.WORK_PIXELS, written out so this module imports nothing heavy (a test keeps them equal)
WORK_PIXELS = 24_000_000

EMOTION_CHOICES = "auto|" + "|".join(EMOTIONS)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", help="image files, folders, or - for stdin")
    p.add_argument("--emotion", required=True, metavar=EMOTION_CHOICES,
                   help="target emotion, auto (the photo's own), or a blend like "
                        "happy:0.7,sad:0.3; common synonyms (joy, afraid, furious, ...) are read "
                        "as the seven")
    p.add_argument("-o", "--output", help="output file, folder (default out/) or - for stdout; "
                                          "missing parent folders are created")
    p.add_argument("--max-pixels", type=int, metavar="N",
                   help="working size: the fast and trained networks see at most N pixels "
                        f"(default {WORK_PIXELS}); a larger photo is styled at that size and "
                        "scaled back up, the output keeps its size. Up to 50000000 (the load "
                        "limit) styles every pixel: memory stays bounded, time grows with pixels")
    p.add_argument("--strength", type=float, help="0 (unchanged) .. 1 (full style)")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's own colours")
    p.add_argument("--style-image", type=Path, help="use this painting instead of the palette's")
    p.add_argument("--palette", type=Path, help="TOML file overriding the emotion palette")
    p.add_argument("--engine", default="fast", choices=ENGINES,
                   help="fast: pretrained networks; optimize: Gatys optimisation; "
                        "trained: a network made by `moodshift train style`")
    p.add_argument("--json", action="store_true", help="one JSON report per image")
    p.add_argument("--expression", metavar="0..1|auto",
                   help="move each face toward the target expression by this much (default 1 "
                        "for a named emotion; auto or 0 keeps the faces as they are)")
    p.add_argument("--face-strength", type=float, metavar="0..1",
                   help="share of the style on faces (default 0 with the fast and trained "
                        "engines, 0.3 with optimize: faces stay legible)")
    p.add_argument("--person-strength", type=float, metavar="0..1",
                   help="share of the style on the rest of the person (default 0.7)")
    p.add_argument("--background-strength", type=float, metavar="0..1",
                   help="share of the style on the background (default 1)")
    add_model_options(p)
    g = p.add_argument_group("optimize and trained engines")
    g.add_argument("--steps", type=int, help="optimisation steps (optimize)")
    g.add_argument("--size", type=int, help="longer side in pixels the engine works at")
    g.add_argument("--backbone", choices=BACKBONES,
                   help="feature network (optimize; default vgg19, its weights from the torch "
                        "hub cache or downloaded there once; offline without them, mobilenet)")
    g.add_argument("--optimizer", choices=[o for o in OPTIMIZERS if o != "auto"],
                   help="optimize: default nadam (the seed's) with VGG, adam with mobilenet")
    g.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="optimize: stop after this many seconds")
    g.add_argument("--init", choices=INITS, help="optimize: starting image")
    g.add_argument("--vgg-weights", type=Path, metavar="PATH",
                   help="torchvision-format VGG checkpoint (default: the torch hub cache)")
    g.add_argument("--model", type=Path, metavar="MODEL",
                   help="trained: a style network from `moodshift train style`")


def run(args: argparse.Namespace) -> int:
    from moodshift.analyze import Models
    from moodshift.imageio import expand_inputs, load_image, load_image_with_alpha, save_image
    from moodshift.outputs import plan_outputs
    from moodshift.style import load_palette
    from moodshift.stylize import StyleRequest, stylize

    try:
        wanted = EmotionMix.parse(args.emotion)
    except UserError as exc:     # the library says what is wrong; the option is named here
        raise UserError(f"--emotion {args.emotion}: {exc}") from None
    palette = load_palette(args.palette)  # once per run; a bad file fails before any work
    # Read the style image once, up front: a bad one fails before any output is written.
    style = load_image(args.style_image) if args.style_image is not None else None
    given = {k: getattr(args, k) for opts in ENGINE_OPTIONS.values() for k in opts
             if getattr(args, k) is not None}  # unset ones keep the engine's default
    request = StyleRequest(emotion=wanted, strength=args.strength,
                           preserve_color=args.preserve_color or None,
                           style_image=style, palette=palette, engine=args.engine,
                           engine_options=given, style_name=str(args.style_image),
                           expression=args.expression, face_strength=args.face_strength,
                           person_strength=args.person_strength,
                           background_strength=args.background_strength,
                           **({} if args.max_pixels is None else {"max_pixels": args.max_pixels}))
    request.check()
    inputs = expand_inputs(args.images)
    tag = wanted.label.replace(",", "+").replace(":", "")
    outputs = dict(zip(inputs, plan_outputs(
        inputs, args.output, tag,
        other_inputs=[str(args.style_image)] if args.style_image is not None else [])))
    # The stylize report has no age or gender: skip that network.
    models = Models(detector_name=args.detector, expression_name=args.expression_model,
                    with_age_gender=False, mood_name=args.mood_model)
    report_stream = sys.stderr if args.output == "-" else sys.stdout

    def work(path: str) -> None:
        image, alpha = load_image_with_alpha(path)
        styled, report = stylize(image, path, request, models)
        target = outputs[path]
        if wanted.is_auto and target != "-":
            target = target.replace(".auto.png", f".{report.emotion}.png")
        save_image(styled, target, metadata=report.intent(), alpha=alpha)
        data = report.to_json() | {"output": target}
        if args.json:
            print_json(data, report_stream)
        else:
            b, a = report.mood_before, report.mood_after
            print(f"{path} -> {target}: {report.emotion}, valence {b.valence:+.2f} -> "
                  f"{a.valence:+.2f}, arousal {b.arousal:+.2f} -> {a.arousal:+.2f} "
                  f"({report.seconds:.2f} s)", file=report_stream)

    return for_each_image(inputs, work)
