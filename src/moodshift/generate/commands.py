"""``moodshift generate``, ``moodshift train gan`` and ``moodshift eval gan``.

Only light imports here (the CLI builds every parser at start-up); torch and the networks are
imported inside the run functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.portraits import DEFAULT_TRUNCATION, GENERATORS

GENERATOR_CHOICES = ("stylegan", "cgan", *GENERATORS)
STYLEGAN_PSI = 0.7   # moodshift.generate.stylegan.generator.DEFAULT_PSI (not imported: openvino)

# Refuse larger requests: every face is upscaled and styled (~0.2-0.5 s each on 2 cores), and
# eval's pairwise distances grow with n squared.
MAX_GENERATE_N = 100
MAX_EVAL_N = 5000
# at least two faces per emotion: diversity is a mean pairwise distance within each emotion, and
# one face has no pair (it would read as diversity 0)
MIN_EVAL_N = 2 * len(EMOTIONS)
MIN_SIZE, MAX_SIZE = 256, 2048


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


# ---------------------------------------------------------------------------------- generate
def add_generate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", help="a description to read emotion, age and gender from "
                                           "(e.g. \"an elderly man, delighted\")")
    p.add_argument("--emotion", help=f"{'|'.join(EMOTIONS)} (overrides the text)")
    p.add_argument("--age", help="child|teen|young_adult|middle_aged|elderly "
                                 "(default: the text's, else unspecified)")
    p.add_argument("--gender", help="female|male (default: the text's, else unspecified)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same faces)")
    p.add_argument("--n", type=int, default=1, help=f"how many faces (1..{MAX_GENERATE_N})")
    p.add_argument("--style", metavar="EMOTION|IMG",
                   help="style the faces for this emotion or like this image "
                        "(default: the requested emotion)")
    p.add_argument("--strength", type=float, help="style strength 0..1 (default: the palette's)")
    p.add_argument("--no-style", action="store_true", help="write the upscaled faces unstyled")
    p.add_argument("--size", type=int, default=256,
                   help=f"output side in pixels ({MIN_SIZE}..{MAX_SIZE}, default 256)")
    _add_truncation(p)
    p.add_argument("--grid", action="store_true",
                   help="one image: every emotion (rows) x age group x gender (columns)")
    p.add_argument("--generator", choices=GENERATOR_CHOICES,
                   help="stylegan: photoreal MobileStyleGAN faces steered by emotion, age and "
                        "gender (default; research / non-commercial licence); cgan (= gan): "
                        "moodshift's conditional GAN (the default when --model is given); "
                        "affect: the affect generator")
    p.add_argument("--emotions", metavar="LIST|all",
                   help="stylegan: several emotions (comma list, or all), one image each")
    p.add_argument("--same-person", action="store_true",
                   help="stylegan: the same identity (seed) for every emotion of --emotions")
    p.add_argument("--directions", type=Path,
                   help="stylegan: directions from `moodshift train directions` "
                        "(default: the shipped ones)")
    p.add_argument("--model", type=Path, help="a trained generator (default: the shipped one)")
    p.add_argument("-o", "--output", required=True,
                   help="output image (.png); with --n > 1 a folder or a name to number")
    p.add_argument("--json", action="store_true", help="one JSON object per written image")


def _add_truncation(p: argparse.ArgumentParser) -> None:
    p.add_argument("--truncation", type=float, default=None, metavar="PSI",
                   help="latent truncation 0..1: lower = clearer expression, less variety "
                        f"(default {DEFAULT_TRUNCATION} for cgan, {STYLEGAN_PSI} for stylegan; "
                        "1 = no truncation)")


def _generator(args: argparse.Namespace) -> str:
    """stylegan unless asked otherwise or --model names a trained cGAN / affect generator."""
    chosen = args.generator or ("gan" if getattr(args, "model", None) else "stylegan")
    return "gan" if chosen == "cgan" else chosen


def _check_truncation(value: float | None, generator: str = "gan") -> float:
    if value is None:
        return STYLEGAN_PSI if generator == "stylegan" else DEFAULT_TRUNCATION
    if not 0.0 <= value <= 1.0:
        raise UserError(f"--truncation {value}: must be between 0 and 1")
    return value


def _outputs(target: str, n: int, stem: str) -> list[Path]:
    """n output paths: the file itself for n == 1, else numbered files or files in a folder."""
    out = Path(target)
    if out.suffix:
        if n == 1:
            return [out]
        return [out.with_name(f"{out.stem}-{i + 1:03d}{out.suffix}") for i in range(n)]
    return [out / f"{stem}-{i + 1:03d}.png" for i in range(n)]


def _check_new(paths: list[Path]) -> None:
    from moodshift.imageio import check_writable_dir

    for p in paths:
        check_writable_dir(p.parent if str(p.parent) else Path("."))


def run_generate(args: argparse.Namespace) -> int:
    from moodshift.generate.portraits import (
        PortraitRequest,
        generate_portraits,
        read_request,
        style_face,
        style_source,
    )
    from moodshift.imageio import save_image

    if not 1 <= args.n <= MAX_GENERATE_N:
        raise UserError(f"--n {args.n}: must be between 1 and {MAX_GENERATE_N}")
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        raise UserError(f"--size {args.size}: must be between {MIN_SIZE} and {MAX_SIZE}")
    if args.strength is not None and not 0.0 <= args.strength <= 1.0:
        raise UserError(f"--strength {args.strength}: must be between 0 and 1")
    if args.output == "-":
        raise UserError("-o -: generate writes image files; give a file or folder name")
    generator = _generator(args)
    args.truncation = _check_truncation(args.truncation, generator)
    emotion, age, gender, reading = read_request(args.text, args.emotion, args.age, args.gender)
    if generator != "stylegan" and (args.emotions or args.same_person or args.directions):
        raise UserError("--emotions, --same-person and --directions need --generator stylegan")
    if generator == "stylegan":
        from moodshift.generate.stylegan.commands import parse_emotion_list
        emotions = parse_emotion_list(args.emotions) or ((emotion,) if emotion else None)
        if args.same_person and not args.emotions:
            raise UserError("--same-person goes with --emotions (e.g. --emotions all)")
        if emotions is None and not args.grid:
            raise UserError(f"give a description, --emotion or --emotions "
                            f"({', '.join(EMOTIONS)}, all)")
    elif emotion is None and not args.grid:
        raise UserError(f"give a description or --emotion ({', '.join(EMOTIONS)})")
    style_emotion, style_image = style_source(args.style)
    if generator == "stylegan":
        from moodshift.generate.stylegan.commands import run_stylegan_generate
        return run_stylegan_generate(args, emotions or (), age, gender, reading, style_emotion,
                                     style_image)
    if args.grid:
        if generator != "gan":
            raise UserError("--grid needs --generator gan (age and gender are GAN conditions)")
        return _run_grid(args, style_emotion, style_image, style_face)

    request = PortraitRequest(
        emotion=emotion, age_group=age, gender=gender, n=args.n, seed=args.seed,
        generator=generator, model=args.model, truncation=args.truncation, size=args.size,
        styled=not args.no_style, style_emotion=style_emotion, style_image=style_image,
        style_label=args.style, strength=args.strength)
    paths = _outputs(args.output, args.n, f"generate-{emotion}-s{args.seed}")
    _check_new(paths)
    for portrait, path in zip(generate_portraits(request), paths):
        save_image(portrait.image, path, metadata=portrait.intent)
        if args.json:
            _print_json(portrait.intent | {"output": str(path), "size": args.size}
                        | ({"text": reading} if reading else {}))
        else:
            print(f"wrote {path} ({emotion}, age {age or 'unspecified'}, "
                  f"gender {gender or 'unspecified'}, seed {args.seed})")
    return 0


def _run_grid(args: argparse.Namespace, style_emotion: str | None, style_image,
              style_face) -> int:
    from moodshift.generate.gan import load_generator
    from moodshift.generate.gan_eval import render_grid
    from moodshift.imageio import save_image

    gen = load_generator(args.model)

    def styler(img, emotion):
        return style_face(img, style_emotion or emotion, style_image, args.strength)

    sheet = render_grid(gen, seed=args.seed, cell=max(96, args.size // 2),
                        styler=None if args.no_style else styler, truncation=args.truncation)
    save_image(sheet, args.output, metadata={"tool": "generate", "grid": True,
                                             "seed": args.seed, "generator": "gan"})
    if args.json:
        _print_json({"output": args.output, "grid": True, "shape": list(sheet.shape)})
    else:
        print(f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]} grid)")
    return 0


# --------------------------------------------------------------------------------- train gan
def add_train_gan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True,
                   help="FER-style folder <emotion>/*.jpg, or a CelebA folder "
                        "(list_attr_celeba.txt + img_align_celeba/)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--steps", type=int, default=6000, help="generator updates (default 6000)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--time-budget", type=float, metavar="MINUTES",
                   help="stop (and export) after this many minutes")
    p.add_argument("--limit-per-class", type=int, help="use at most this many images per emotion")
    p.add_argument("--checkpoint-every", type=int, default=250, metavar="STEPS")
    p.add_argument("--resume", type=Path, help="checkpoint.pt (or its folder) to continue")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run_train_gan(args: argparse.Namespace) -> int:
    from moodshift.generate.gan_train import GanConfig, GanInterrupted, command_line, train_gan

    for name in ("steps", "batch", "checkpoint_every"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be >= 1")
    if args.batch < 2:
        raise UserError("--batch must be at least 2")
    if not 0 < args.lr < 1:
        raise UserError(f"--lr {args.lr}: must be between 0 and 1")
    # a non-positive budget or limit would export an untrained generator or read no data
    if args.time_budget is not None and not args.time_budget > 0:
        raise UserError(f"--time-budget {args.time_budget}: must be a positive number of minutes")
    for name in ("limit_per_class", "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be >= 1")
    if args.data.resolve() == args.out.resolve():
        raise UserError(f"--out {args.out}: must differ from --data")
    cfg = GanConfig(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                    checkpoint_every=args.checkpoint_every, time_budget_min=args.time_budget,
                    limit_per_class=args.limit_per_class, threads=args.threads)
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    try:
        result = train_gan(args.data, args.out, cfg, resume=args.resume, log=log,
                           show_progress=not args.no_progress, command=command_line())
    except GanInterrupted as stop:
        print(f"moodshift: interrupted at step {stop.result.steps}; resume with "
              f"--resume {args.out}", file=sys.stderr)
        return 130
    if args.json:
        _print_json(result.to_json())
    else:
        print(f"trained {result.steps} steps in {result.seconds / 60:.1f} min; "
              f"generator: {args.out / 'generator.safetensors'}")
    return 0


# ---------------------------------------------------------------------------------- eval gan
def add_eval_gan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=700,
                   help="generated faces, split evenly over the emotions "
                        f"({MIN_EVAL_N}..{MAX_EVAL_N})")
    p.add_argument("--generator", choices=("stylegan", "cgan", "gan"),
                   help="stylegan (default) or cgan (= gan; the default when --model is given)")
    p.add_argument("--model", type=Path, help="a trained generator (default: the shipped one)")
    p.add_argument("--judge", choices=["moodshift", "fer", "faceapi"],
                   help="the independent expression classifier (default: moodshift for cgan, "
                        "which never saw it; fer for stylegan, whose directions msnet and "
                        "face-api labelled)")
    p.add_argument("--identities", type=int, default=4,
                   help="stylegan: identities rendered in all seven emotions for the "
                        "--same-person identity figure (0: skip; default 4)")
    p.add_argument("--directions", type=Path,
                   help="stylegan: directions from `moodshift train directions`")
    p.add_argument("--real", type=Path,
                   help="real faces <emotion>/*.jpg for the FID-style distance "
                        "(default: ../shared/datasets/fer2013/val if present)")
    p.add_argument("--seed", type=int, default=0)
    _add_truncation(p)
    p.add_argument("--plot", type=Path, help="write the figures as a PNG here")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run_eval_gan(args: argparse.Namespace) -> int:
    if not MIN_EVAL_N <= args.n <= MAX_EVAL_N:
        raise UserError(f"--n {args.n}: must be between {MIN_EVAL_N} and {MAX_EVAL_N}")
    generator = _generator(args)
    args.truncation = _check_truncation(args.truncation, generator)
    if generator == "stylegan":
        return _run_eval_stylegan(args)
    args.judge = args.judge or "moodshift"
    if args.real is not None and not args.real.is_dir():
        raise UserError(f"--real {args.real}: not a folder")
    if args.plot is not None and args.plot.suffix.lower() != ".png":
        raise UserError(f"--plot {args.plot}: the plot is a PNG; give a name ending in .png")
    from moodshift.generate.gan import load_generator
    from moodshift.generate.gan_data import fer_files
    from moodshift.generate.gan_eval import default_real_folder, evaluate_gan, plot_eval
    from moodshift.imageio import check_writable_dir

    # check the real faces and the plot's folder now, not after minutes of generating
    if args.real is not None:
        fer_files(args.real)
    if args.plot is not None:
        check_writable_dir(args.plot.parent if str(args.plot.parent) else Path("."))

    gen = load_generator(args.model)
    real = args.real if args.real is not None else default_real_folder()
    result = evaluate_gan(gen, n=args.n, judge=args.judge, real=real, seed=args.seed,
                          truncation=args.truncation)
    if args.plot is not None:
        plot_eval(result, args.plot)
    if args.json:
        _print_json(result.to_json())
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


def _run_eval_stylegan(args: argparse.Namespace) -> int:
    from moodshift.generate.stylegan.evaluate import TARGETS, evaluate_stylegan

    if args.model is not None or args.real is not None or args.plot is not None:
        raise UserError("--model, --real and --plot are for --generator cgan")
    if not 0 <= args.identities <= 50 or args.identities == 1:
        raise UserError(f"--identities {args.identities}: must be 0 or 2..50")
    result = evaluate_stylegan(n=args.n, judge=args.judge or "fer", seed=args.seed,
                               psi=args.truncation, identities=args.identities,
                               directions=args.directions)
    if args.json:
        _print_json(result.to_json())
        return 0
    independent = "independent" if result.judge_independent else \
        "NOT independent: it labelled the directions"
    print(f"stylegan; judge {result.judge} ({independent}); {result.n} portraits, "
          f"truncation {result.psi}")
    for e in EMOTIONS:
        print(f"  {e:9} read as asked: {result.per_emotion[e]:6.1%}")
    print(f"  overall   {result.overall:6.1%}  (target >= {TARGETS['emotion_overall']:.0%})")
    print(f"  age group {result.age_group_accuracy:6.1%}, gender {result.gender_accuracy:6.1%} "
          "(face-api age/gender: dependent, it labelled the directions)")
    print(f"  exactly one face detected: {result.one_face:6.1%}")
    print(f"  diversity (mean pairwise descriptor distance): {result.diversity:.3f}")
    if result.identity:
        i = result.identity
        print(f"  identity: within {i['within_identity']:.3f} vs between "
              f"{i['between_identities']:.3f} (ratio {i['ratio']:.2f})")
    print(f"  {result.seconds_per_portrait:.2f} s per 1024 px portrait, peak memory "
          f"{result.peak_memory_mb:.0f} MB")
    return 0
