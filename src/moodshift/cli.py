"""The `moodshift` command: argument parsing and printing only; the work is in the library."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Callable

from moodshift import __version__
from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError

EMOTION_CHOICES = "auto|" + "|".join(EMOTIONS)


def _print_json(obj: object, stream=None) -> None:
    print(json.dumps(obj, ensure_ascii=False), file=stream or sys.stdout, flush=True)


def _for_each_image(paths: list[str], work: Callable[[str], None]) -> int:
    """Run work on each input; a bad file is reported on one line and the rest still run."""
    from moodshift.imageio import expand_inputs

    failures = 0
    for path in expand_inputs(paths):
        try:
            work(path)
        except UserError as exc:
            print(f"moodshift: error: {exc}", file=sys.stderr)
            failures += 1
    return 2 if failures else 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from moodshift.annotate import annotate
    from moodshift.imageio import expand_inputs, load_image, save_image
    from moodshift.outputs import plan_outputs
    from moodshift.pipeline import Models, analyze

    models = Models(detector_name=args.detector, expression_name=args.expression_model)
    inputs = expand_inputs(args.images)
    annotated = dict(zip(inputs, plan_outputs(inputs, args.annotate, "annotated"))) \
        if args.annotate else {}

    def work(path: str) -> None:
        image = load_image(path)
        result = analyze(image, path, models)
        if path in annotated:
            save_image(annotate(image, result), annotated[path])
        if args.json:
            _print_json(result.to_json())
            return
        m = result.mood
        print(f"{path}: {len(result.faces)} face(s), dominant {result.dominant_emotion}, "
              f"mood V {m.valence:+.2f} A {m.arousal:+.2f} D {m.dominance:+.2f}")
        for f in result.faces:
            extra = "" if f.age is None else f", age {f.age:.0f}, {f.gender}"
            print(f"  face {f.box}: {f.top_emotion} {f.expression[f.top_emotion]:.0%}{extra}")

    return _for_each_image(inputs, work)


# Which stylize options each engine takes.
ENGINE_OPTIONS = {"fast": (),
                  "optimize": ("steps", "size", "backbone", "optimizer", "time_budget", "init",
                               "vgg_weights"),
                  "trained": ("model", "size")}


def _engine_options(args: argparse.Namespace) -> dict[str, object]:
    """The engine settings the user gave (unset ones keep the engine's default); an option the
    chosen engine does not take is refused rather than silently ignored."""
    given = {k for opts in ENGINE_OPTIONS.values() for k in opts if getattr(args, k) is not None}
    foreign = sorted(given - set(ENGINE_OPTIONS[args.engine]))
    if foreign:
        flags = ", ".join("--" + k.replace("_", "-") for k in foreign)
        raise UserError(f"{flags}: not an option of --engine {args.engine}")
    return {k: getattr(args, k) for k in ENGINE_OPTIONS[args.engine] if k in given}


def cmd_stylize(args: argparse.Namespace) -> int:
    from moodshift.imageio import expand_inputs, load_image, save_image
    from moodshift.outputs import plan_outputs
    from moodshift.pipeline import (
        Models,
        StyleRequest,
        emotion_label,
        parse_emotion_request,
        stylize,
    )
    from moodshift.style import load_palette

    wanted = parse_emotion_request(args.emotion)
    if args.strength is not None and not 0.0 <= args.strength <= 1.0:
        raise UserError(f"--strength {args.strength}: must be between 0 and 1")
    palette = load_palette(args.palette)  # once per run; a bad file fails before any work
    # Read the style image once, up front: a bad one fails before any output is written.
    style = load_image(args.style_image) if args.style_image is not None else None
    if style is not None and args.engine == "optimize":
        from moodshift.style.optimize_settings import MIN_STYLE_SIDE

        if min(style.shape[:2]) < MIN_STYLE_SIDE:  # named here: the engine only sees arrays
            raise UserError(f"{args.style_image}: style image is too small "
                            f"({style.shape[1]}x{style.shape[0]} px); the optimize engine needs "
                            f"at least {MIN_STYLE_SIDE} px on its shorter side")
    request = StyleRequest(emotion=args.emotion, strength=args.strength,
                           preserve_color=args.preserve_color or None,
                           style_image=style, palette=palette, engine=args.engine,
                           engine_options=_engine_options(args))
    inputs = expand_inputs(args.images)
    tag = emotion_label(wanted).replace(",", "+").replace(":", "")
    outputs = dict(zip(inputs, plan_outputs(inputs, args.output, tag)))
    # The stylize report has no age or gender: skip that network.
    models = Models(detector_name=args.detector, expression_name=args.expression_model,
                    with_age_gender=False)
    report_stream = sys.stderr if args.output == "-" else sys.stdout

    def work(path: str) -> None:
        image = load_image(path)
        styled, report = stylize(image, path, request, models)
        target = outputs[path]
        if args.emotion == "auto" and target != "-":
            target = target.replace(".auto.png", f".{report.emotion}.png")
        save_image(styled, target, metadata=report.intent())
        data = report.to_json() | {"output": target}
        if args.json:
            _print_json(data, report_stream)
        else:
            b, a = report.mood_before, report.mood_after
            print(f"{path} -> {target}: {report.emotion}, valence {b.valence:+.2f} -> "
                  f"{a.valence:+.2f}, arousal {b.arousal:+.2f} -> {a.arousal:+.2f} "
                  f"({report.seconds:.2f} s)", file=report_stream)

    return _for_each_image(inputs, work)


def cmd_models(args: argparse.Namespace) -> int:
    from moodshift.models import registry
    from moodshift.models.store import cache_dir

    if args.models_command == "pull":
        states = registry.pull(force=args.force, log=lambda s: print(s, file=sys.stderr))
    else:
        states = registry.status(check_sums=args.models_command == "verify")
    if getattr(args, "json", False):
        for s in states:
            _print_json(s.to_json())
    else:
        print(f"cache: {cache_dir()}")
        print(f"{'model':28} {'kind':11} {'status':8} {'size':>9}  {'licence':8} source")
        for s in states:
            size = f"{s.size / 1e6:.1f} MB" if s.size else "-"
            print(f"{s.info.name:28} {s.info.kind:11} {s.status:8} {size:>9}  "
                  f"{s.info.licence:8} {s.info.source}")
    missing = [s.info.name for s in states if s.status != "ok"]
    if args.models_command == "verify" and missing:
        print(f"moodshift: error: not ok: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.models_command == "pull" and any(s.info.name == "faceapi-ssd" for s in states
                                             if s.status != "ok"):
        print("moodshift: warning: face-api models missing; face detection falls back to "
              "OpenCV's Haar cascade", file=sys.stderr)
    return 0


def cmd_models_quantize(args: argparse.Namespace) -> int:
    from moodshift.expression.quantize import quantize_shipped

    result = quantize_shipped(args.data, args.output, n=args.n, seed=args.seed,
                              log=lambda s: print(s, file=sys.stderr))
    if args.json:
        _print_json(result.to_json())
    return 0


def cmd_palette(args: argparse.Namespace) -> int:
    from moodshift.imageio import load_image, save_image
    from moodshift.pipeline import palette_sheet

    photo = load_image(args.photo)
    save_image(palette_sheet(photo, args.palette), args.output)
    print(f"wrote {args.output}")
    return 0


def build_parser(with_training: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moodshift", description=__doc__)
    parser.add_argument("--version", action="version", version=f"moodshift {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--detector", default="auto", choices=["auto", "ssd", "haar"],
                       help="face detector (auto: face-api SSD if pulled, else Haar)")
        p.add_argument("--expression-model", default="auto",
                       help="expression model: auto, moodshift, faceapi, fer or a checkpoint path")

    p = sub.add_parser("analyze", help="faces, expressions, age, gender and image mood")
    p.add_argument("images", nargs="+", help="image files, folders, or - for stdin")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--annotate", metavar="OUT", help="write the photo with labelled boxes")
    add_model_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("stylize", help="restyle images to express an emotion")
    p.add_argument("images", nargs="+", help="image files, folders, or - for stdin")
    p.add_argument("--emotion", required=True, metavar=EMOTION_CHOICES,
                   help="target emotion, auto (the photo's own), or a blend like happy:0.7,sad:0.3")
    p.add_argument("-o", "--output", help="output file, folder (default out/) or - for stdout")
    p.add_argument("--strength", type=float, help="0 (unchanged) .. 1 (full style)")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's own colours")
    p.add_argument("--style-image", type=Path, help="use this painting instead of the palette's")
    p.add_argument("--palette", type=Path, help="TOML file overriding the emotion palette")
    p.add_argument("--engine", default="fast", choices=["fast", "optimize", "trained"],
                   help="fast: pretrained networks; optimize: Gatys optimisation; "
                        "trained: a network made by `moodshift train style`")
    p.add_argument("--json", action="store_true", help="one JSON report per image")
    add_model_options(p)
    g = p.add_argument_group("optimize and trained engines")
    g.add_argument("--steps", type=int, help="optimisation steps (optimize)")
    g.add_argument("--size", type=int, help="longer side in pixels the engine works at")
    g.add_argument("--backbone", choices=["vgg19", "vgg16", "mobilenet"],
                   help="feature network (optimize; default vgg19 if its weights exist, "
                        "else mobilenet)")
    g.add_argument("--optimizer", choices=["adam", "nadam", "lbfgs"],
                   help="optimize: default nadam (the seed's) with VGG, adam with mobilenet")
    g.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="optimize: stop after this many seconds")
    g.add_argument("--init", choices=["content", "noise"], help="optimize: starting image")
    g.add_argument("--vgg-weights", type=Path, metavar="PATH",
                   help="torchvision-format VGG checkpoint (default: the torch hub cache)")
    g.add_argument("--model", type=Path, metavar="MODEL",
                   help="trained: a style network from `moodshift train style`")
    p.set_defaults(func=cmd_stylize)

    p = sub.add_parser("models", help="pull, list and verify pretrained networks")
    msub = p.add_subparsers(dest="models_command", required=True)
    pp = msub.add_parser("pull", help="fetch and convert third-party networks")
    pp.add_argument("--force", action="store_true", help="fetch again even if cached")
    for name in ("list", "verify"):
        lp = msub.add_parser(name, help=f"{name} cached models")
        lp.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)
    qp = msub.add_parser("quantize", help="int8 version of the shipped expression model")
    qp.add_argument("--data", required=True, help="training data to calibrate on (FER2013 tree)")
    qp.add_argument("--n", type=int, default=512, help="calibration faces (default 512)")
    qp.add_argument("--seed", type=int, default=0)
    qp.add_argument("-o", "--output", type=Path, required=True, help="the int8 ONNX file")
    qp.add_argument("--json", action="store_true")
    qp.set_defaults(func=cmd_models_quantize)

    p = sub.add_parser("palette", help="the emotion palette")
    psub = p.add_subparsers(dest="palette_command", required=True)
    ps = psub.add_parser("show", help="render the palette and a photo in all seven emotions")
    ps.add_argument("--photo", default=str(Path(__file__).parent / "data" / "astronaut.png"))
    ps.add_argument("--palette", type=Path, help="TOML override")
    ps.add_argument("-o", "--output", default="palette.png")
    p.set_defaults(func=cmd_palette)

    # Training and evaluation pull in torch; their options are built only when asked for, so
    # analyze/stylize start without importing it.
    p = sub.add_parser("train", help="train moodshift's own models")
    tsub = p.add_subparsers(dest="train_command", required=True)
    p = sub.add_parser("eval", help="evaluate models on labelled data")
    esub = p.add_subparsers(dest="eval_command", required=True)
    # Commands in their own modules ("module:adder:runner"); those modules import only light
    # things at the top (argparse, moodshift.errors/emotions) so building every parser is cheap.
    def lazy(parent, name: str, target: str, summary: str) -> None:
        module, adder, runner = target.split(":")
        mod = importlib.import_module(module)
        cp = parent.add_parser(name, help=summary)
        getattr(mod, adder)(cp)
        cp.set_defaults(func=getattr(mod, runner))

    for parent, name, target, summary in (
            (sub, "read-text", "moodshift.text.commands:add_read_text_arguments:run_read_text",
             "emotion, age group and gender from a description"),
            (sub, "generate", "moodshift.generate.commands:add_generate_arguments:run_generate",
             "generate portraits for an emotion, age and gender, then style them"),
            (sub, "evolve", "moodshift.evolve.commands:add_evolve_arguments:run_evolve",
             "synthesise images for an emotion target by MAP-Elites (pyribs)"),
            (sub, "rate", "moodshift.rate.commands:add_rate_arguments:run_rate",
             "Self-Assessment Manikin ratings: web page and report"),
            (tsub, "style", "moodshift.style.train_commands:add_train_style_arguments:"
             "run_train_style", "train a per-emotion feed-forward style network (Johnson)"),
            (tsub, "gan", "moodshift.generate.commands:add_train_gan_arguments:run_train_gan",
             "train the conditional portrait GAN"),
            (tsub, "directions", "moodshift.generate.stylegan.commands:"
             "add_train_directions_arguments:run_train_directions",
             "fit emotion/age/gender directions in MobileStyleGAN's style space"),
            (tsub, "affect-generator", "moodshift.generate.affect_commands:"
             "add_train_affect_arguments:run_train_affect",
             "train a generator against the frozen emotion classifier / mood model"),
            (tsub, "text", "moodshift.text.commands:add_train_text_arguments:run_train_text",
             "train the read-text classifier head on moodshift's labelled sentences"),
            (esub, "gan", "moodshift.generate.commands:add_eval_gan_arguments:run_eval_gan",
             "emotion agreement, diversity and FID-style distance of generated faces"),
    ):
        lazy(parent, name, target, summary)
    if with_training:
        from moodshift.expression.train_commands import add_train_arguments, run_train_command
        tp = tsub.add_parser("expression", help="train an expression classifier")
        add_train_arguments(tp)
        tp.set_defaults(func=run_train_command)
        from moodshift.expression.evaluate import add_eval_arguments, run_eval_command
        ep = esub.add_parser("expression", help="accuracy of an expression classifier")
        add_eval_arguments(ep)
        ep.set_defaults(func=run_eval_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(with_training=bool(words) and words[0] in ("train", "eval"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"moodshift: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("moodshift: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
