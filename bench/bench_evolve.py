"""`moodshift evolve` throughput: evaluations per second for each genome at 64 and 128 px.

One evaluation = one image through the whole MAP-Elites step (pyribs ask, render, moodshift's
expression classifier on the whole image, tell, offering it to all seven emotion cells), batch
64, timed over five iterations after three warm-up ones. gan-latent needs the installed GAN
(`moodshift train gan`) or MOODSHIFT_BENCH_GAN=<generator folder>; its speed depends on the
architecture only, not on how well the generator was trained.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from common import Measurement, write_report

BATCH = 64
ITERATIONS = 5
WARM_UP = 3
SIZES = (64, 128)
GENOMES = ("pixels", "cppn", "gan-latent")


def measure(genome_name: str, size: int, model) -> tuple[float, float, float]:
    """(evaluations/s, render ms per batch, fitness ms per batch)."""
    from moodshift.evolve.request import EvolveRequest, prepare_run
    from moodshift.evolve.run import evolve

    with tempfile.TemporaryDirectory() as tmp:
        # The same wiring as `moodshift evolve --target emotions --genome G --size S`.
        run = prepare_run(EvolveRequest(target="emotions", iterations=WARM_UP + ITERATIONS,
                                        out=Path(tmp), genome=genome_name, batch=BATCH,
                                        size=size, judge="none",
                                        gan=os.environ.get("MOODSHIFT_BENCH_GAN")),
                          expression=model)
        state, genome, fitness, layout = run.state, run.genome, run.fitness, run.layout
        # Warm-up: sessions, caches and numba's compilation of CMA-ES (ask, tell and update
        # are compiled on their first calls, which are spread over the first iterations).
        evolve(state, WARM_UP, genome, fitness, layout, Path(tmp), progress=False)
        started = time.perf_counter()
        evolve(state, WARM_UP + ITERATIONS, genome, fitness, layout, Path(tmp),
               checkpoint_every=10**6, progress=False)
        rate = ITERATIONS * BATCH / (time.perf_counter() - started)
    solutions = state.scheduler.ask()
    t0 = time.perf_counter()
    images = genome.render(solutions)
    t1 = time.perf_counter()
    fitness.evaluate(images)
    t2 = time.perf_counter()
    return rate, (t1 - t0) * 1000, (t2 - t1) * 1000


def main() -> Path:
    import torch

    from moodshift.errors import UserError
    from moodshift.expression.load import load_expression_model

    torch.set_num_threads(1)  # as `moodshift evolve --genome cppn` does
    model = load_expression_model("moodshift")
    rows: list[Measurement] = []
    rates: dict[str, float] = {}
    for genome in GENOMES:
        for size in SIZES:
            name = f"{genome} {size}px"
            try:
                rate, render_ms, fit_ms = measure(genome, size, model)
            except UserError as exc:
                rows.append(Measurement(name, float("nan"), float("nan"),
                                        f"not available: {exc}"))
                continue
            rates[name] = rate
            rows.append(Measurement(name, BATCH / rate, float("nan"),
                                    f"{rate:.0f} evaluations/s; per batch of {BATCH}: render "
                                    f"{render_ms:.0f} ms, fitness {fit_ms:.0f} ms"))
    extra = {"evaluations per second": {k: round(v, 1) for k, v in rates.items()},
             "what": f"seconds = one iteration of {BATCH} images (ask, render, classify, tell)"}
    return write_report("evolve", rows, extra)


if __name__ == "__main__":
    print(main().read_text())
