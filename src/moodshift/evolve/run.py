"""The MAP-Elites loop (pyribs ask -> render -> evaluate -> tell), checkpoints and --resume.

A checkpoint (``checkpoint.pkl`` in the output folder) pickles the pyribs scheduler (archive,
emitters and their random generators) with the run's counters and a fingerprint of every
setting that shapes the search, so ``--resume`` continues exactly where the run stopped and
refuses a folder made with other settings.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from moodshift.errors import InputFileError
from moodshift.evolve.targets import Target

CHECKPOINT = "checkpoint.pkl"
CHECKPOINT_VERSION = 1
CHECKPOINT_SECONDS = 60.0  # also save at least this often, whatever --checkpoint-every says
OUTPUT_NAMES = ("elites", "result.json", "archive.csv", "history.csv", "grid.png", "heatmap.png")


@dataclass(frozen=True)
class EvolveConfig:
    """Everything that shapes the search (the fingerprint) and the number of iterations."""

    target: Target
    genome: str
    size: int
    layout: str
    fitness: str
    expression_model: str
    batch: int
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)
    gan: str = ""  # gan-latent: the --gan generator ("" = the installed one)

    def fingerprint(self) -> dict[str, object]:
        grid = self.settings.get("layouts", {})
        keys = {"va": ("va_cells",), "prob-detail": ("prob_detail_cells", "detail_max")}
        relevant = {"layouts": {k: grid.get(k) for k in keys.get(self.layout, ())},
                    "cppn": self.settings.get("cppn", {}) if self.genome == "cppn" else {},
                    "emitters": self.settings.get("emitters", {}).get(self.genome, [])}
        digest = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
        return {"target": self.target.label, "genome": self.genome, "size": self.size,
                "layout": self.layout, "fitness": self.fitness,
                "expression_model": self.expression_model if self.fitness == "expression" else "",
                "batch": self.batch, "seed": self.seed, "settings": digest, "gan": self.gan}


@dataclass
class RunState:
    fingerprint: dict[str, object]
    scheduler: Any
    iterations: int = 0
    evaluations: int = 0
    seconds: float = 0.0
    initial_best: float | None = None
    # per iteration: (iteration, evaluations, coverage, qd_score, best objective)
    history: list[tuple[int, int, float, float, float]] = field(default_factory=list)

    @property
    def archive(self) -> Any:
        return self.scheduler.archive


def save_checkpoint(out: Path, state: RunState) -> None:
    from moodshift.imageio import atomic_write_bytes

    payload = {"version": CHECKPOINT_VERSION, "state": state}
    atomic_write_bytes(out / CHECKPOINT, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def _describe_difference(saved: dict[str, object], wanted: dict[str, object]) -> str:
    diffs = [f"{k} {saved.get(k)!r} (now {wanted.get(k)!r})" for k in wanted
             if saved.get(k) != wanted.get(k)]
    return "; ".join(diffs)


def open_run(out: Path, fingerprint: dict[str, object], resume: bool) -> RunState | None:
    """The saved state to continue (--resume), None for a fresh run; refuses mismatches.

    Checks only, writes nothing: a refused command leaves no output behind.
    """
    path = out / CHECKPOINT
    if out.exists() and not out.is_dir():
        raise InputFileError(out, "--out exists and is not a folder")
    if not resume:
        if path.exists():
            raise InputFileError(out, "already holds an evolve run (checkpoint.pkl): pass "
                                      "--resume to continue it, or choose another --out")
        clashes = [n for n in OUTPUT_NAMES if (out / n).exists()]
        if clashes:  # never write over files this command did not just make
            raise InputFileError(out, f"already holds {', '.join(clashes)}: choose another "
                                      "--out")
        return None
    if not path.exists():
        raise InputFileError(out, "--resume: no checkpoint.pkl here to resume from")
    try:
        payload = pickle.loads(path.read_bytes())
        state = payload["state"]
        version = payload["version"]
    except Exception as exc:  # a damaged or foreign file: say so, don't crash
        raise InputFileError(path, f"cannot read checkpoint ({type(exc).__name__})") from None
    if version != CHECKPOINT_VERSION or not isinstance(state, RunState):
        raise InputFileError(path, f"checkpoint format {version!r} is not "
                                   f"{CHECKPOINT_VERSION}: start a new run with another --out")
    if state.fingerprint != fingerprint:
        raise InputFileError(path, "--resume refused: the archive comes from another "
                                   "configuration: "
                                   f"{_describe_difference(state.fingerprint, fingerprint)}")
    return state


class _StopFlag:
    """First Ctrl-C (or SIGTERM where the command line turned it into one) asks the loop to
    stop after the current iteration (state stays whole); a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> "_StopFlag":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                current = signal.getsignal(signum)
                # SIGTERM only where it already means Ctrl-C (moodshift.console's handler): an
                # embedding program's own handler, or none from Python, is left alone
                if signum == signal.SIGINT or getattr(current, "raises_keyboard_interrupt",
                                                      False):
                    self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            if handler is not None:  # None: a handler installed outside Python, not ours to set
                signal.signal(signum, handler)


def evolve(state: RunState, total_iterations: int, genome: Any, fitness: Any, layout: Any,
           out: Path, checkpoint_every: int = 50, progress: bool = True,
           on_iteration: Callable[[RunState], None] | None = None) -> RunState:
    """Run iterations until state.iterations == total_iterations, checkpointing on the way.

    On Ctrl-C the state after the last whole iteration is saved and KeyboardInterrupt raised.
    """
    from tqdm import tqdm

    from moodshift.evolve.bounds import check_iterations

    batch = sum(int(getattr(e, "batch_size", 1)) for e in state.scheduler.emitters)
    check_iterations(total_iterations, max(1, batch), genome.size, genome.name)
    scheduler, archive = state.scheduler, state.archive
    bar = tqdm(total=total_iterations, initial=state.iterations, disable=not progress,
               unit="it", desc="evolve", file=sys.stderr, dynamic_ncols=True)
    last_save = time.monotonic()
    with _StopFlag() as stop:
        try:
            while state.iterations < total_iterations:
                started = time.perf_counter()
                solutions = scheduler.ask()
                images = genome.render(solutions)
                evaluation = fitness.evaluate(images)
                scores = fitness.objectives(evaluation)
                objective, measures = layout.measures(scores, evaluation)
                scheduler.tell(objective, measures)
                layout.offer_everywhere(archive, solutions, scores)
                state.iterations += 1
                state.evaluations += len(solutions)
                state.seconds += time.perf_counter() - started
                stats = archive.stats
                best = float(stats.obj_max) if stats.obj_max is not None else float("nan")
                if state.initial_best is None:
                    state.initial_best = best
                state.history.append((state.iterations, state.evaluations,
                                      float(stats.coverage), float(stats.qd_score), best))
                bar.set_postfix(coverage=f"{stats.coverage:.0%}", qd=f"{stats.qd_score:.2f}",
                                best=f"{best:.3f}", refresh=False)
                bar.update(1)
                if on_iteration is not None:
                    on_iteration(state)
                due = (state.iterations % max(1, checkpoint_every) == 0
                       or time.monotonic() - last_save > CHECKPOINT_SECONDS)
                if stop.requested or due or state.iterations == total_iterations:
                    save_checkpoint(out, state)
                    last_save = time.monotonic()
                if stop.requested:
                    print(f"moodshift: stopped after iteration {state.iterations}; checkpoint "
                          f"saved in {out / CHECKPOINT}; continue with --resume",
                          file=sys.stderr)
                    raise KeyboardInterrupt
        finally:
            bar.close()
    return state


def new_state(fingerprint: dict[str, object], genome: Any, layout: Any, batch: int, seed: int,
              emitter_specs: list[dict[str, Any]]) -> RunState:
    from ribs.schedulers import Scheduler

    from moodshift.evolve.settings import make_emitters

    rng = np.random.default_rng(seed)
    archive = layout.make_archive(genome.solution_dim, seed)
    initial = genome.initial_solutions(batch, rng)
    emitters = make_emitters(emitter_specs, archive, genome, batch, seed, initial)
    return RunState(fingerprint, Scheduler(archive, emitters))
