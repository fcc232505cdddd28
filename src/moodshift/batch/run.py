"""run_batch: plan the items, pick up an interrupted run, send the work to local processes or
Ray, write the manifest line by line and show progress."""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from moodshift.batch import manifest
from moodshift.batch.config import BatchConfig
from moodshift.batch.items import list_sources, plan, read_descriptions
from moodshift.batch.worker import Processor
from moodshift.errors import UserError


@dataclass(frozen=True)
class BatchSummary:
    task: str
    runner: str              # "local processes", "ray local", "ray <address>"
    workers: int
    threads: int             # compute threads per worker
    items: int
    done: int
    failed: int
    skipped: int             # finished by an earlier run (--resume)
    seconds: float           # the whole run, start-up included
    startup_seconds: float   # until the first item came back (workers started, models loaded)
    manifest: str

    @property
    def items_per_second(self) -> float:
        worked = self.done + self.failed
        return worked / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {"task": self.task, "runner": self.runner, "workers": self.workers,
                "threads": self.threads, "items": self.items, "done": self.done,
                "failed": self.failed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "startup_seconds": round(self.startup_seconds, 3),
                "items_per_second": round(self.items_per_second, 4), "manifest": self.manifest}


def run_batch(config: BatchConfig, *, progress: bool | None = None,
              make: Callable[..., Processor] = Processor) -> BatchSummary:
    """Run the batch; Ctrl-C (KeyboardInterrupt) stops the workers and leaves a valid manifest.

    progress: show a progress bar on stderr (None: when stderr is a terminal). `make` builds
    each worker's Processor (tests substitute one that misbehaves)."""
    started = time.perf_counter()
    config.validate()
    if config.task == "generate":
        the_plan = plan(config, [])
        items = read_descriptions(config)
    else:
        sources = list_sources(config)
        the_plan = plan(config, sources)
        items = [the_plan.item(s) for s in sources]
    settings = config.settings_hash()
    done = manifest.prepare(config.manifest, config.resume)
    Path(config.out).mkdir(parents=True, exist_ok=True)
    chunks = max(1, math.ceil(len(items) / config.batch_size))

    owns_ray = False
    if config.ray is not None:
        from moodshift.batch import on_ray

        owns_ray = on_ray.connect(config.ray, config.workers)
        runner = f"ray {config.ray}"
    try:
        if config.ray is not None:
            cpus = on_ray.cluster_cpus()
            workers = min(config.workers or cpus, cpus, chunks)
            threads = config.threads or max(1, cpus // workers)
            records = on_ray.run_ray(config, the_plan, items, done, settings, workers, threads,
                                     make)
        else:
            from moodshift.batch.local import run_local

            runner = "local processes"
            workers = min(config.worker_count(), chunks)
            threads = config.thread_count(workers)
            records = run_local(config, [(i, done.get(i.source)) for i in items], settings,
                                workers, threads, make)
        counts, first = _consume(records, config, len(items), progress, started)
    finally:
        if owns_ray:
            on_ray.shutdown()
    if config.resume:
        manifest.compact(config.manifest)
    seconds = time.perf_counter() - started
    return BatchSummary(config.task, runner, workers, threads, len(items), counts["ok"],
                        counts["failed"], counts["skipped"], seconds,
                        seconds if first is None else first, str(config.manifest))


def _consume(records, config: BatchConfig, total: int, progress: bool | None,
             started: float) -> tuple[Counter, float | None]:
    from tqdm import tqdm

    counts: Counter = Counter()
    first = None
    writer = manifest.ManifestWriter(config.manifest)
    bar = tqdm(total=total, unit="img" if config.task != "generate" else "item",
               desc=f"batch {config.task}", file=sys.stderr, smoothing=0.05,
               disable=None if progress is None else not progress)
    try:
        with closing(records):
            for record in records:
                if record["status"] == "fatal":
                    raise UserError(record["error"])
                if first is None:
                    first = time.perf_counter() - started
                if record["status"] != "skipped":
                    writer.write(record)
                counts[record["status"]] += 1
                bar.update(1)
                if record["status"] == "failed":
                    bar.set_postfix(failed=counts["failed"], refresh=False)
    finally:
        writer.close()
        bar.close()
    return counts, first
