"""Batch work on Ray Data: the images are read by Ray Data's file reader (local folders or any
filesystem it reads: s3://, gs://, ...) and processed in a pool of actors, each loading the models
once. Ray restarts an actor that dies and retries its tasks (MAX_ATTEMPTS); a batch that still
fails is skipped by Ray Data and its items are recorded as failed.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

import numpy as np

from moodshift.batch.config import BatchConfig, is_uri
from moodshift.batch.items import Item, Plan
from moodshift.batch.ray_import import import_ray
from moodshift.batch.worker import INPUT_FIELD, Processor
from moodshift.errors import UserError

MAX_ATTEMPTS = 3


def connect(address: str, workers: int | None) -> bool:
    """Join the cluster (auto: a running one if there is one, else a fresh local one); True when
    this process started Ray and must shut it down."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    options = {"include_dashboard": False, "log_to_driver": False,
               "logging_level": logging.ERROR}
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS") or _started_cluster() or "local"
    if address == "local":
        cpus = max(os.cpu_count() or 1, workers or 1)
        ray.init(num_cpus=cpus, **options)
        return True
    try:
        ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"--ray {address}: cannot join the Ray cluster ({reason}); start one "
                        "with `ray start --head` on the head machine") from None
    return True


def _started_cluster() -> str | None:
    """The address `ray start` left on this machine, if any. (Ray's own address="auto" would
    also join any Ray instance it finds running here, even another program's private one.)"""
    try:
        from ray._private.utils import read_ray_address
        return read_ray_address()
    except (ImportError, OSError):
        return None


def cluster_cpus() -> int:
    """Actors hold one CPU each: a pool larger than this would wait forever for the rest."""
    return max(1, int(import_ray().cluster_resources().get("CPU", 1)))


class RayWorker:
    """A Ray Data actor: the models load in the constructor, once per actor."""

    def __init__(self, make: Callable[..., Processor], plan: Plan, settings: str, threads: int,
                 root: str, done: dict[str, str]) -> None:
        self.plan = plan
        self.root = root
        self.done = done
        self.processor = make(plan.config, settings, threads)

    def source(self, path: str) -> str:
        if self.plan.single:
            return PurePosixPath(path).name
        return PurePosixPath(path).relative_to(self.root).as_posix()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        records = []
        if "text" in batch:  # generate: the planned items travel as rows
            for source, text, output in zip(batch["source"], batch["text"], batch["output"]):
                item = Item(str(source), str(text), str(output), text=str(text))
                records.append(self.processor.process(item, item.text.encode("utf-8"),
                                                      self.done.get(item.source)))
        else:
            for path, data in zip(batch["path"], batch["bytes"]):
                item = self.plan.item(self.source(str(path)))
                records.append(self.processor.process(item, bytes(data),
                                                      self.done.get(item.source)))
        return {"record": np.array([json.dumps(r, ensure_ascii=False) for r in records],
                                   dtype=object)}


def _file_system(src: str):
    """Ray Data's filesystem for SRC, and the folder its sources are relative to."""
    import pyarrow.fs as pafs

    if is_uri(src):
        fs, path = pafs.FileSystem.from_uri(src)
    else:
        fs, path = pafs.LocalFileSystem(), str(Path(src).resolve())
    if fs.get_file_info(path).type == pafs.FileType.File:
        return fs, str(PurePosixPath(path).parent)
    return fs, path.rstrip("/")


def run_ray(config: BatchConfig, plan: Plan, items: list[Item], done: dict[str, str],
            settings: str, workers: int, threads: int,
            make: Callable[..., Processor] = Processor) -> Iterator[dict]:
    """Yield each item's record as Ray Data streams it back (Ray must be connected)."""
    ray = import_ray()
    from ray.data import ActorPoolStrategy, DataContext

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # no per-dataset chatter
    context = DataContext.get_current()
    context.enable_progress_bars = False  # the driver shows one bar for the whole batch
    context.print_on_execution_start = False
    context.max_errored_blocks = -1  # a batch that failed MAX_ATTEMPTS times: recorded, go on
    root = ""
    if config.task == "generate":
        ds = ray.data.from_items([{"source": i.source, "text": i.text, "output": i.output}
                                  for i in items])
    else:
        fs, root = _file_system(config.src)
        paths = [str(PurePosixPath(root) / i.source) for i in items]
        # The readers take no CPU of their own: the actors hold one each, and a reader waiting
        # for a CPU the actors hold would stall the pipeline.
        ds = ray.data.read_binary_files(paths, include_paths=True, filesystem=fs, num_cpus=0)
    with warnings.catch_warnings():
        # Ray 2.60 deprecates remote args given this way but offers no other way to bound
        # actor restarts and task retries (its default is to retry forever)
        warnings.simplefilter("ignore", DeprecationWarning)
        ds = ds.map_batches(
            RayWorker, batch_size=config.batch_size, batch_format="numpy",
            compute=ActorPoolStrategy(size=workers),
            fn_constructor_kwargs={"make": make, "plan": plan, "settings": settings,
                                   "threads": threads, "root": root, "done": done},
            num_cpus=1, max_restarts=MAX_ATTEMPTS, max_task_retries=MAX_ATTEMPTS)
    seen: set[str] = set()
    for row in ds.iter_rows():
        record = json.loads(row["record"])
        seen.add(record["source"])
        yield record
    field = INPUT_FIELD[config.task]
    for item in items:
        if item.source not in seen:
            yield {field: item.input, "source": item.source, "key": None, "status": "failed",
                   "error": f"{item.input}: its worker failed {MAX_ATTEMPTS} times on its batch",
                   "seconds": 0.0, "worker": None}


def shutdown() -> None:
    import_ray().shutdown()
