"""A bounded pool for the model work: a few threads, a short queue, 503 beyond it.

Requests that compute (analyze, stylize, read-text, generate) run here, never on the event loop,
so pages, ratings and slow clients keep being answered while the models work. When threads and
queue are full a request is refused at once with 503 and Retry-After instead of piling up.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from moodshift.web.errors import ApiError, busy

T = TypeVar("T")


class WorkPool:
    def __init__(self, threads: int, queue: int, timeout: float) -> None:
        self.threads = threads
        self.capacity = threads + queue
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="moodshift-work")
        self._lock = threading.Lock()
        self._pending = 0
        self._mean_seconds = 1.0  # running mean of the work's duration, for Retry-After

    @property
    def pending(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        """About how long until a slot frees: the queue ahead, divided over the threads."""
        wait = self._mean_seconds * max(1, self._pending) / self.threads
        return max(1, min(60, math.ceil(wait)))

    def _release(self, seconds: float) -> None:
        with self._lock:
            self._pending -= 1
            self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * seconds

    def _timed(self, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return fn()
        finally:
            self._release(time.perf_counter() - started)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run fn on a pool thread; 503 when full, 503 when it takes past the time limit."""
        with self._lock:
            if self._pending >= self.capacity:
                raise busy(self.retry_after())
            self._pending += 1
        try:
            future = self._executor.submit(self._timed, fn)
        except RuntimeError:  # shutting down
            with self._lock:
                self._pending -= 1
            raise ApiError(503, "the server is stopping") from None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except asyncio.TimeoutError:
            # Still queued: cancelled and never run. Already running: it finishes on its own
            # thread (Python cannot stop a thread) and keeps its slot until then, so the pool's
            # bound stays true.
            if future.cancel():
                with self._lock:
                    self._pending -= 1
            raise ApiError(503, f"the request took longer than the {self.timeout:g} s limit",
                           {"Retry-After": str(self.retry_after())}) from None

    def submit(self, fn: Callable[[], T]):
        """Warm-up work at start-up (not counted against the queue)."""
        return self._executor.submit(fn)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
