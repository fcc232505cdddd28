"""`moodshift generate`: portraits for an emotion, age and gender, then styled.

Only light imports at the top; torch and the networks load inside run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.candidates import add_candidates, candidate_fields
from moodshift.cli.common import print_json, say_text_note, style_files
from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.portraits import (
    DEFAULT_GENERATOR,
    DEFAULT_TRUNCATION,
    GENERATOR_CHOICES,
    MAX_N,
    MAX_SIZE,
    MIN_SIZE,
    STYLEGAN_MAX_SIZE,
    STYLEGAN_MIN_SIZE,
    STYLEGAN_TRUNCATION,
    canonical_generator,
)
from moodshift.people import AGE_GROUPS, GENDERS
from moodshift.seeds import SEED_HELP


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", help="a description to read emotion, age and gender from "
                                           "(e.g. \"an elderly man, delighted\")")
    p.add_argument("--emotion", help=f"{'|'.join(EMOTIONS)} (overrides the text)")
    p.add_argument("--age", help=f"{'|'.join(AGE_GROUPS)} (default: the text's, else unspecified)")
    p.add_argument("--gender", help=f"{'|'.join(GENDERS)} (default: the text's, else unspecified)")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    p.add_argument("--n", type=int, default=1, help=f"how many faces (1..{MAX_N})")
    p.add_argument("--style", metavar="EMOTION|IMG",
                   help="style the faces for this emotion or like this image "
                        "(default: the requested emotion)")
    p.add_argument("--strength", type=float, help="style strength 0..1 (default: the palette's)")
    p.add_argument("--no-style", action="store_true", help="write the upscaled faces unstyled")
    p.add_argument("--size", type=int, default=256,
                   help=f"output side in pixels (stylegan {STYLEGAN_MIN_SIZE}..{STYLEGAN_MAX_SIZE}"
                        f", cgan and affect {MIN_SIZE}..{MAX_SIZE}; default 256)")
    add_truncation(p)
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
    p.add_argument("--expression-edit", action=argparse.BooleanOptionalAction, default=None,
                   help="stylegan: also warp the expression (face mesh) of every emotion but "
                        "happy, after steering; on by default, see docs/stylegan.md")
    add_candidates(p)
    p.add_argument("--model", type=Path, help="a trained generator (default: the shipped one)")
    p.add_argument("-o", "--output", required=True,
                   help="output image (.png); with --n > 1 a folder or a name to number; "
                        "missing parent folders are created")
    p.add_argument("--json", action="store_true", help="one JSON object per written image")


def add_truncation(p: argparse.ArgumentParser) -> None:
    p.add_argument("--truncation", type=float, default=None, metavar="PSI",
                   help="latent truncation 0..1: lower = clearer expression, less variety "
                        f"(default {DEFAULT_TRUNCATION} for cgan, {STYLEGAN_TRUNCATION} for stylegan; "
                        "1 = no truncation)")


def chosen_generator(args: argparse.Namespace) -> str:
    """stylegan unless asked otherwise or --model names a trained cGAN / affect generator;
    also fills in the generator's default truncation."""
    chosen = canonical_generator(args.generator or ("gan" if getattr(args, "model", None)
                                                    else DEFAULT_GENERATOR))
    if args.truncation is None:
        args.truncation = STYLEGAN_TRUNCATION if chosen == "stylegan" else DEFAULT_TRUNCATION
    return chosen


def output_paths(target: str, n: int, stem: str) -> list[Path]:
    """n output paths: the file itself for n == 1, else numbered files or files in a folder."""
    out = Path(target)
    if out.suffix:
        if n == 1:
            return [out]
        return [out.with_name(f"{out.stem}-{i + 1:03d}{out.suffix}") for i in range(n)]
    return [out / f"{stem}-{i + 1:03d}.png" for i in range(n)]


def run(args: argparse.Namespace) -> int:
    from moodshift.generate.portraits import (
        PortraitRequest,
        generate_grid,
        generate_portraits,
        read_request,
        style_source,
    )
    from moodshift.imageio import check_writable_dir, save_image
    from moodshift.outputs import refuse_overwriting

    generator = chosen_generator(args)
    if generator == "stylegan":
        from moodshift.cli.generate_stylegan import run_stylegan
        return run_stylegan(args)
    if args.emotions or args.same_person or args.directions or args.expression_edit is not None \
            or candidate_fields(args):
        raise UserError("--emotions, --same-person, --directions, --expression-edit, "
                        "--candidates and --more-candidates need --generator stylegan")

    def request_for(emotion, age, gender, style_emotion=None, style_image=None):
        return PortraitRequest(
            emotion=emotion, age_group=age, gender=gender, n=args.n, seed=args.seed,
            generator=generator, model=args.model, truncation=args.truncation,
            size=args.size, styled=not args.no_style, style_emotion=style_emotion,
            style_image=style_image, style_label=args.style, strength=args.strength,
            grid=args.grid)

    request_for(None, None, None).check()  # bad numbers fail before the text is read
    if args.output == "-":
        raise UserError("-o -: generate writes image files; give a file or folder name")
    emotion, age, gender, reading = read_request(args.text, args.emotion, args.age, args.gender)
    say_text_note(args, reading)
    if emotion is None and not args.grid:
        raise UserError(f"give a description or --emotion ({', '.join(EMOTIONS)})")
    request = request_for(emotion, age, gender, *style_source(args.style))
    if args.grid:
        refuse_overwriting([args.output], style_files(args))
        sheet = generate_grid(request)
        save_image(sheet, args.output, metadata={"tool": "generate", "grid": True,
                                                 "seed": args.seed, "generator": "gan"})
        if args.json:
            print_json({"output": args.output, "grid": True, "shape": list(sheet.shape)})
        else:
            print(f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]} grid)")
        return 0

    paths = output_paths(args.output, args.n, f"generate-{emotion}-s{args.seed}")
    refuse_overwriting([str(p) for p in paths], style_files(args))
    for p in paths:
        check_writable_dir(p.parent if str(p.parent) else Path("."))
    for portrait, path in zip(generate_portraits(request), paths):
        save_image(portrait.image, path, metadata=portrait.intent)
        if args.json:
            print_json(portrait.intent | {"output": str(path), "size": args.size}
                       | ({"text": reading} if reading else {}))
        else:
            print(f"wrote {path} ({emotion}, age {age or 'unspecified'}, "
                  f"gender {gender or 'unspecified'}, seed {args.seed})")
    return 0
