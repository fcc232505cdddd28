"""`moodshift evolve`: images a classifier takes for an emotion, by MAP-Elites."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from moodshift.evolve.bounds import BOUNDS_HELP
from moodshift.evolve.request import FITNESSES, GENOMES, JUDGES, LAYOUTS
from moodshift.seeds import SEED_HELP


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True,
                   help="emotion:E (one emotion), emotions (one cell each), va:V,A or "
                        "vad:V,A,D (coordinates in [-1, 1])")
    p.add_argument("--genome", default="cppn", metavar="|".join(GENOMES),
                   help="pixels: direct pixels; cppn: image = f(x, y) (default); gan-latent: "
                        "latent space of moodshift's conditional GAN (CMA-ME); stylegan: "
                        "style space of MobileStyleGAN, photoreal faces (CMA-ME; ~1.5 s per "
                        "image; research / non-commercial licence)")
    p.add_argument("--iterations", type=int, required=True,
                   help="total iterations of the run (with --resume: continue up to this many); "
                        + BOUNDS_HELP)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--batch", type=int, default=64,
                   help="images evaluated per iteration (memory grows with batch x size²)")
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    p.add_argument("--layout", default="auto", metavar="|".join(LAYOUTS),
                   help="archive: emotions (one cell per emotion), va (mood valence x "
                        "arousal grid), prob-detail (objective x image detail grid); auto "
                        "picks by target")
    p.add_argument("--fitness", default="expression", choices=FITNESSES,
                   help="expression: moodshift's expression classifier (whole image = face); "
                        "mood: the image mood model (--mood-model)")
    p.add_argument("--mood-model", default="auto",
                   help="mood model for --fitness mood and the va layout: auto (human-rated if "
                        "pulled), default, oasis-only, emotion6-only, colour, or a heads file")
    p.add_argument("--expression-model", default="moodshift",
                   help="classifier giving the fitness (moodshift, faceapi, fer or a trained "
                        "model's path)")
    p.add_argument("--judge", default="fer", choices=JUDGES,
                   help="a different classifier that reports agreement with the elites")
    p.add_argument("--gan", metavar="PATH", help="gan-latent: generator to use (default: the "
                                                 "installed one)")
    p.add_argument("--config", type=Path, metavar="TOML",
                   help="override emitters and grid settings (see moodshift/data/evolve.toml)")
    p.add_argument("--checkpoint-every", type=int, default=50, metavar="N",
                   help="save a checkpoint every N iterations (and at least once a minute)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from moodshift.evolve.request import EvolveRequest, run_evolve

    out: Path = args.out
    result = run_evolve(EvolveRequest(
        target=args.target, iterations=args.iterations, out=out, genome=args.genome,
        batch=args.batch, seed=args.seed, resume=args.resume, size=args.size,
        layout=args.layout, fitness=args.fitness, expression_model=args.expression_model,
        mood_model=args.mood_model, judge=args.judge, gan=args.gan, config=args.config,
        checkpoint_every=args.checkpoint_every, progress=not args.no_progress))
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        judged = result["judge"]
        agreement = judged.get("top_agreement") if isinstance(judged, dict) else None
        line = (f"{out}: {result['iterations']} iterations, {result['evaluations']} "
                f"evaluations, coverage {result['coverage']:.0%}, QD score "
                f"{result['qd_score']:.3f}, best {result['best_objective']} (initially "
                f"{result['initial_best_objective']})")
        if agreement is not None:
            line += f", {args.judge} agrees on {agreement:.0%} of the {judged['top_elites']} best"
        print(line)
    return 0
