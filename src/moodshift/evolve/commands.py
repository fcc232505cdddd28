"""`moodshift evolve`: argument parsing and the run (heavy imports stay inside run_evolve)."""

from __future__ import annotations

import argparse
from pathlib import Path

from moodshift.errors import UserError

GENOME_CHOICES = ("pixels", "cppn", "gan-latent", "stylegan")
LAYOUT_CHOICES = ("auto", "emotions", "va", "prob-detail")
MIN_SIZE, MAX_SIZE = 16, 512


def add_evolve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True,
                   help="emotion:E (one emotion), emotions (one cell each), va:V,A or "
                        "vad:V,A,D (coordinates in [-1, 1])")
    p.add_argument("--genome", default="cppn", metavar="|".join(GENOME_CHOICES),
                   help="pixels: direct pixels; cppn: image = f(x, y) (default); gan-latent: "
                        "latent space of moodshift's conditional GAN (CMA-ME); stylegan: "
                        "style space of MobileStyleGAN, photoreal faces (CMA-ME; ~1.5 s per "
                        "image, research / non-commercial licence)")
    p.add_argument("--iterations", type=int, required=True,
                   help="total iterations of the run (with --resume: continue up to this many)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--batch", type=int, default=64, help="images evaluated per iteration")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--size", type=int, default=64, help="image side in pixels (default 64)")
    p.add_argument("--layout", default="auto", metavar="|".join(LAYOUT_CHOICES),
                   help="archive: emotions (one cell per emotion), va (colour valence x "
                        "arousal grid), prob-detail (objective x image detail grid); auto "
                        "picks by target")
    p.add_argument("--fitness", default="expression", choices=["expression", "mood"],
                   help="expression: moodshift's expression classifier (whole image = face); "
                        "mood: the colour-mood model")
    p.add_argument("--expression-model", default="moodshift",
                   help="classifier giving the fitness (moodshift, faceapi, fer or a trained "
                        "model's path)")
    p.add_argument("--judge", default="fer", choices=["fer", "faceapi", "none"],
                   help="a different classifier that reports agreement with the elites")
    p.add_argument("--gan", metavar="PATH", help="gan-latent: generator to use (default: the "
                                                 "installed one)")
    p.add_argument("--config", type=Path, metavar="TOML",
                   help="override emitters and grid settings (see moodshift/data/evolve.toml)")
    p.add_argument("--checkpoint-every", type=int, default=50, metavar="N",
                   help="save a checkpoint every N iterations (and at least once a minute)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def check_arguments(args: argparse.Namespace) -> None:
    """Reject bad values before anything is loaded or written."""
    if args.iterations <= 0:
        raise UserError(f"--iterations {args.iterations}: must be a positive whole number")
    if args.batch <= 0:
        raise UserError(f"--batch {args.batch}: must be a positive whole number")
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        raise UserError(f"--size {args.size}: must be between {MIN_SIZE} and {MAX_SIZE} pixels")
    if args.genome not in GENOME_CHOICES:
        raise UserError(f"--genome {args.genome}: unknown genome; valid genomes: "
                        f"{', '.join(GENOME_CHOICES)}")
    if args.checkpoint_every <= 0:
        raise UserError(f"--checkpoint-every {args.checkpoint_every}: must be positive")


def run_evolve(args: argparse.Namespace) -> int:
    import json
    import sys

    from moodshift.evolve.fitness import Fitness, load_judge
    from moodshift.evolve.genomes import make_genome
    from moodshift.evolve.layouts import choose_layout
    from moodshift.evolve.outputs import write_outputs
    from moodshift.evolve.run import EvolveConfig, evolve, new_state, open_run
    from moodshift.evolve.settings import load_settings
    from moodshift.evolve.targets import parse_target
    from moodshift.imageio import check_writable_dir

    check_arguments(args)
    if args.genome == "cppn":
        # The CPPN renders with torch; on a busy small machine one intra-op thread was 5-10x
        # faster than the default pool (measured at 16-128 px, batch 64).
        import torch
        torch.set_num_threads(1)
    target = parse_target(args.target)
    settings = load_settings(args.config)
    layout = choose_layout(args.layout, target, settings.get("layouts", {}))
    config = EvolveConfig(target, args.genome, args.size, layout.name, args.fitness,
                          args.expression_model, args.batch, args.seed, settings,
                          gan=str(args.gan or "") if args.genome == "gan-latent" else "")
    out: Path = args.out
    check_writable_dir(out)
    state = open_run(out, config.fingerprint(), args.resume)

    # Models next (each may refuse with a UserError): still nothing written.
    expression = None
    if args.fitness == "expression":
        from moodshift.expression.load import load_expression_model
        expression = load_expression_model(args.expression_model)
    judge = load_judge(args.judge, args.fitness, args.expression_model)
    genome = make_genome(args.genome, args.size, target.nearest_emotion(), args.gan,
                         settings.get("cppn", {}))
    fitness = Fitness(target, args.fitness, expression, need_mood=layout.name == "va",
                      need_detail=layout.name == "prob-detail")
    if state is not None and state.iterations >= args.iterations:
        print(f"moodshift: {out} already ran {state.iterations} iterations (--iterations "
              f"{args.iterations}): rewriting its outputs only", file=sys.stderr)
    if state is None:
        specs = settings.get("emitters", {}).get(args.genome, [])
        state = new_state(config.fingerprint(), genome, layout, args.batch, args.seed, specs)

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a read-only or virtual file system that os.access missed
        raise UserError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    evolve(state, args.iterations, genome, fitness, layout, out,
           checkpoint_every=args.checkpoint_every, progress=not args.no_progress)
    result = write_outputs(out, state, config, layout, genome, expression, judge, args.judge)
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
