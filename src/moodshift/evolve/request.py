"""One evolve run from its settings: check them, load what the run needs, search, write.

``run_evolve`` is what `moodshift evolve` does; ``prepare_run`` (everything up to the search,
nothing written) is shared with the benchmark, so both measure the same wiring.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from moodshift.errors import UserError
from moodshift.evolve.fitness import FITNESS_MODELS as FITNESSES
from moodshift.evolve.fitness import JUDGES

__all__ = ["FITNESSES", "GENOMES", "JUDGES", "LAYOUTS", "EvolveRequest", "PreparedRun",
           "prepare_run", "run_evolve"]
GENOMES = ("pixels", "cppn", "gan-latent", "stylegan")
LAYOUTS = ("auto", "emotions", "va", "prob-detail")
MIN_SIZE, MAX_SIZE = 16, 512


@dataclass(frozen=True)
class EvolveRequest:
    target: str                        # emotion:E, emotions, va:V,A or vad:V,A,D
    iterations: int
    out: Path
    genome: str = "cppn"
    batch: int = 64
    seed: int = 0
    resume: bool = False
    size: int = 64
    layout: str = "auto"
    fitness: str = "expression"
    expression_model: str = "moodshift"
    mood_model: str = "auto"           # --fitness mood and the va layout (moodshift.mood)
    judge: str = "fer"
    gan: str | None = None             # gan-latent: the generator (None: the installed one)
    config: Path | None = None         # TOML overriding emitters and grids
    checkpoint_every: int = 50
    progress: bool = True

    def check(self) -> None:
        """Reject bad values before anything is loaded or written."""
        from moodshift.evolve.bounds import check_batch, check_iterations
        from moodshift.seeds import check_seed

        if not MIN_SIZE <= self.size <= MAX_SIZE:
            raise UserError(f"--size {self.size}: must be between {MIN_SIZE} and {MAX_SIZE} "
                            "pixels")
        check_seed(self.seed, "--seed")
        check_batch(self.batch, self.size, self.genome)  # memory: refused with the estimate
        check_iterations(self.iterations, self.batch, self.size, self.genome)  # time, likewise
        if self.genome not in GENOMES:
            raise UserError(f"--genome {self.genome}: unknown genome; valid genomes: "
                            f"{', '.join(GENOMES)}")
        if self.checkpoint_every <= 0:
            raise UserError(f"--checkpoint-every {self.checkpoint_every}: must be positive")
        from moodshift.mood import check_mood_model

        check_mood_model(self.mood_model)


@dataclass
class PreparedRun:
    """Everything a search needs, loaded and checked; nothing written yet."""

    request: EvolveRequest
    config: Any          # run.EvolveConfig
    layout: Any
    genome: Any
    fitness: Any
    expression: Any      # the fitness classifier (None for the mood fitness)
    judge: Any
    state: Any           # run.RunState (a resumed one, or a fresh one)


def prepare_run(request: EvolveRequest, expression: Any = None,
                log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> PreparedRun:
    """Check the request, open (or refuse to resume) the run and load its models; expression
    may be given already loaded (the benchmark loads it once for many runs)."""
    from moodshift.evolve.fitness import Fitness, load_judge
    from moodshift.evolve.genomes import make_genome
    from moodshift.evolve.layouts import choose_layout
    from moodshift.evolve.run import EvolveConfig, new_state, open_run
    from moodshift.evolve.settings import load_settings
    from moodshift.evolve.targets import parse_target
    from moodshift.imageio import check_writable_dir

    request.check()
    if request.genome == "cppn":
        # The CPPN renders with torch; on a busy small machine one intra-op thread was 5-10x
        # faster than the default pool (measured at 16-128 px, batch 64).
        import torch
        torch.set_num_threads(1)
    target = parse_target(request.target)
    settings = load_settings(request.config)
    layout = choose_layout(request.layout, target, settings.get("layouts", {}))
    config = EvolveConfig(target, request.genome, request.size, layout.name, request.fitness,
                          request.expression_model, request.batch, request.seed, settings,
                          gan=str(request.gan or "") if request.genome == "gan-latent" else "")
    check_writable_dir(request.out)
    state = open_run(request.out, config.fingerprint(), request.resume)

    # Models next (each may refuse with a UserError): still nothing written.
    if request.fitness == "expression" and expression is None:
        from moodshift.expression.load import load_expression_model
        expression = load_expression_model(request.expression_model)
    if request.fitness != "expression":
        expression = None
    judge = load_judge(request.judge, request.fitness, request.expression_model)
    genome = make_genome(request.genome, request.size, target.nearest_emotion(), request.gan,
                         settings.get("cppn", {}))
    fitness = Fitness(target, request.fitness, expression, need_mood=layout.name == "va",
                      need_detail=layout.name == "prob-detail", mood_model=request.mood_model)
    if state is not None and state.iterations >= request.iterations:
        log(f"moodshift: {request.out} already ran {state.iterations} iterations (--iterations "
            f"{request.iterations}): rewriting its outputs only")
    if state is None:
        specs = settings.get("emitters", {}).get(request.genome, [])
        state = new_state(config.fingerprint(), genome, layout, request.batch, request.seed,
                          specs)
    return PreparedRun(request, config, layout, genome, fitness, expression, judge, state)


def run_evolve(request: EvolveRequest) -> dict[str, Any]:
    """Search (or continue a saved search) up to request.iterations and write its outputs;
    returns the summary that result.json holds."""
    from moodshift.evolve.outputs import write_outputs
    from moodshift.evolve.run import evolve

    run = prepare_run(request)
    out = request.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a read-only or virtual file system that os.access missed
        raise UserError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    evolve(run.state, request.iterations, run.genome, run.fitness, run.layout, out,
           checkpoint_every=request.checkpoint_every, progress=request.progress)
    return write_outputs(out, run.state, run.config, run.layout, run.genome, run.expression,
                         run.judge, request.judge)
