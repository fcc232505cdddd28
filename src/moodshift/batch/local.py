"""Batch work on this machine's processes (concurrent.futures), each loading the models once.

A worker process that dies (killed, out of memory) breaks the pool: the pool is started again
and the items that were in flight are retried one by one, up to MAX_ATTEMPTS times each.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterator

from moodshift.batch.config import BatchConfig
from moodshift.batch.items import Item
from moodshift.batch.worker import INPUT_FIELD, Processor

MAX_ATTEMPTS = 3
Task = tuple[Item, str | None]  # the item and its key from an earlier run (skipped if equal)

_processor: Processor | None = None


def _start_worker(make: Callable[..., Processor], config: BatchConfig, settings: str,
                  threads: int) -> None:
    global _processor
    # Ctrl-C is the driver's to handle: it stops the pool, so workers ignore it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # tqdm (bars inside the library, even disabled ones) would make a process-shared lock: a
    # named semaphore that a worker terminated on Ctrl-C never removes, which the resource
    # tracker then reports. A worker's bars need only a thread lock.
    from tqdm import tqdm
    tqdm.set_lock(threading.RLock())
    _processor = make(config, settings, threads)


def _read(item: Item) -> bytes:
    if item.text is not None:
        return item.text.encode("utf-8")
    return Path(item.input).read_bytes()


def _work(tasks: list[Task]) -> list[dict]:
    assert _processor is not None
    out = []
    for item, done in tasks:
        try:
            data = _read(item)
        except OSError as exc:
            out.append({INPUT_FIELD[_processor.config.task]: item.input, "source": item.source,
                        "key": None, "status": "failed",
                        "error": f"{item.input}: cannot read ({exc.strerror or exc})",
                        "seconds": 0.0, "worker": _processor.worker})
            continue
        out.append(_processor.process(item, data, done))
    return out


def run_local(config: BatchConfig, tasks: list[Task], settings: str, workers: int, threads: int,
              make: Callable[..., Processor] = Processor) -> Iterator[dict]:
    """Yield each item's record as it finishes."""
    context = multiprocessing.get_context("spawn")  # no forked copies of the driver's state
    queue: deque[list[Task]] = deque(tasks[i:i + config.batch_size]
                                     for i in range(0, len(tasks), config.batch_size))
    attempts: dict[str, int] = {}
    field = INPUT_FIELD[config.task]
    while queue:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                   initargs=(make, config, settings, threads))
        running: dict[Future, list[Task]] = {}
        done_with_pool = False
        try:
            while queue or running:
                while queue and len(running) < 2 * workers:  # one queued behind each busy one
                    chunk = queue.popleft()
                    running[pool.submit(_work, chunk)] = chunk
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    chunk = running.pop(future)
                    try:
                        yield from future.result()
                    except BrokenProcessPool:
                        yield from _retry(chunk, attempts, queue, field)
                        for other in running.values():  # they died with the pool
                            yield from _retry(other, attempts, queue, field)
                        running.clear()
                        break
                else:
                    continue
                break  # a fresh pool for what is left
            else:
                done_with_pool = True
        finally:
            _stop(pool, graceful=done_with_pool)


def _retry(chunk: list[Task], attempts: dict[str, int], queue: deque[list[Task]],
           field: str) -> Iterator[dict]:
    """Queue each item again on its own, or record it as failed after MAX_ATTEMPTS."""
    for item, done in chunk:
        attempts[item.source] = attempts.get(item.source, 0) + 1
        if attempts[item.source] < MAX_ATTEMPTS:
            queue.appendleft([(item, done)])
        else:
            yield {field: item.input, "source": item.source, "key": None, "status": "failed",
                   "error": f"{item.input}: the worker process died {MAX_ATTEMPTS} times on it",
                   "seconds": 0.0, "worker": None}


def _stop(pool: ProcessPoolExecutor, graceful: bool = False) -> None:
    if graceful:  # every item done: the workers exit on their own, cleaning up what they made
        pool.shutdown(wait=True)  # (terminated, they left semaphores for the tracker to report)
        return
    # Workers ignore SIGINT and could be minutes into an item: stop them now. Their outputs are
    # written atomically, so a stopped one leaves at most a hidden .part file (removed on resume).
    if hasattr(pool, "terminate_workers"):  # Python 3.14+: the public way (it also shuts down)
        pool.terminate_workers()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)
