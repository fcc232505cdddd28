"""`moodshift eval gan`: emotion agreement, diversity and distance of generated faces."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.cli.candidates import add_candidates, candidate_fields
from moodshift.cli.common import print_json
from moodshift.cli.generate import add_truncation, chosen_generator
from moodshift.emotions import EMOTIONS
from moodshift.errors import UserError
from moodshift.generate.gan.evaluate import JUDGES, MAX_EVAL_N, MIN_EVAL_N


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=700,
                   help="generated faces, split evenly over the emotions "
                        f"({MIN_EVAL_N}..{MAX_EVAL_N})")
    p.add_argument("--generator", choices=("stylegan", "cgan", "gan"),
                   help="stylegan (default) or cgan (= gan; the default when --model is given)")
    p.add_argument("--model", type=Path, help="a trained generator (default: the shipped one)")
    p.add_argument("--judge", choices=JUDGES,
                   help="the independent expression classifier (default: moodshift for cgan, "
                        "which never trained it; fer for stylegan, whose directions msnet and "
                        "face-api labelled)")
    p.add_argument("--identities", type=int, default=4,
                   help="stylegan: identities rendered in all seven emotions for the "
                        "same-person identity figure (0: skip; default 4)")
    p.add_argument("--directions", type=Path,
                   help="stylegan: directions from `moodshift train directions`")
    p.add_argument("--expression-edit", action=argparse.BooleanOptionalAction, default=True,
                   help="stylegan: also warp the expression of every emotion but happy "
                        "(default on, as generate does)")
    p.add_argument("--styled", action="store_true",
                   help="stylegan: judge the portraits styled as generate writes them "
                        "(default: as drawn, unstyled)")
    add_candidates(p)
    p.add_argument("--real", type=Path,
                   help="real faces <emotion>/*.jpg for the FID-style distance "
                        "(default: ../shared/datasets/fer2013/val if present)")
    p.add_argument("--seed", type=int, default=0)
    add_truncation(p)
    p.add_argument("--log", type=Path, metavar="FILE.jsonl",
                   help="stylegan: JSONL of finished portraits; a rerun with the same options "
                        "resumes from it")
    p.add_argument("--plot", type=Path, help="write the figures as a PNG here")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from moodshift.generate.gan.evaluate import GanEvalRequest, run_gan_eval

    if chosen_generator(args) == "stylegan":
        return run_stylegan(args)
    if args.directions is not None or candidate_fields(args) or args.styled or args.log:
        raise UserError("--directions, --candidates, --more-candidates, --styled and --log are "
                        "for --generator stylegan")
    args.judge = args.judge or "moodshift"
    gen, result = run_gan_eval(GanEvalRequest(
        n=args.n, model=args.model, judge=args.judge, real=args.real, seed=args.seed,
        truncation=args.truncation, plot=args.plot))
    if args.json:
        print_json(result.to_json())
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


def run_stylegan(args: argparse.Namespace) -> int:
    from moodshift.generate.stylegan.evaluate import TARGETS, StyleEvalRequest, run_style_eval

    if args.model is not None or args.real is not None or args.plot is not None:
        raise UserError("--model, --real and --plot are for --generator cgan")
    result = run_style_eval(StyleEvalRequest(
        n=args.n, judge=args.judge or "fer", seed=args.seed, psi=args.truncation,
        identities=args.identities, directions=args.directions,
        expression_edit=args.expression_edit, styled=args.styled, log=args.log,
        **candidate_fields(args)))
    if args.json:
        print_json(result.to_json())
        return 0
    independent = "independent" if result.judge_independent else \
        "NOT independent: it labelled the directions"
    print(f"stylegan; judge {result.judge} ({independent}); {result.n} "
          f"{'styled ' if result.styled else ''}portraits, "
          f"truncation {result.psi}, best of {result.candidates} candidates each "
          f"(up to {result.more_candidates} more while none is read as asked"
          + "".join(f", {e} {m}" for e, m in result.more_by_emotion.items()
                    if m != result.more_candidates)
          + f": {result.mean_candidates_drawn:.2f} drawn on average)")
    for e in EMOTIONS:
        print(f"  {e:9} read as asked: {result.per_emotion[e]:6.1%}")
    print(f"  overall   {result.overall:6.1%}  (target >= {TARGETS['emotion_overall']:.0%})")
    dep = result.dependent_age_gender
    judged = "independent" if result.age_gender_independent else \
        "dependent: it labelled the directions"
    print(f"  age group {result.age_group_accuracy:6.1%}, gender {result.gender_accuracy:6.1%} "
          f"({result.age_gender_judge}, {judged}; target >= {TARGETS['age_group']:.0%} / "
          f"{TARGETS['gender']:.0%})")
    if result.age_gender_independent:
        print(f"  age group {dep['age_group_accuracy']:6.1%}, gender "
              f"{dep['gender_accuracy']:6.1%} (face-api age/gender: dependent, it labelled the "
              "directions)")
    print(f"  exactly one face detected: {result.one_face:6.1%}")
    print(f"  diversity (mean pairwise descriptor distance): {result.diversity:.3f}")
    if result.identity:
        i = result.identity
        print(f"  identity: within {i['within_identity']:.3f} vs between "
              f"{i['between_identities']:.3f} (ratio {i['ratio']:.2f})"
              + (f"; those faces read as asked by {result.judge}: "
                 f"{i['judge_read_as_asked']:.1%}" if "judge_read_as_asked" in i else ""))
    print(f"  {result.seconds_per_portrait:.2f} s per 1024 px portrait, peak memory "
          f"{result.peak_memory_mb:.0f} MB")
    return 0
