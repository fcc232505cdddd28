"""The skeleton every training loop shares: a progress bar, a time budget and one Ctrl-C
contract. The loop itself (its step function) stays with each trainer.

The Ctrl-C contract: Ctrl-C inside ``stop_on_ctrl_c`` ends the loop after the step in hand
and logs one line; the trainer then saves its checkpoint and outputs as usual and returns its
result with ``interrupted=True``; the command exits 130 and ``--resume`` continues the run.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator


def progress_bar(total: int | None = None, initial: int = 0, desc: str | None = None,
                 unit: str = "step", enabled: bool = True, iterable: Any = None,
                 **options: Any) -> Any:
    """A tqdm bar on stderr (over ``iterable`` if given), redrawn at most every 2 s; disabled:
    no output, and the iterable is still iterated."""
    from tqdm import tqdm

    settings = {"file": sys.stderr, "mininterval": 2.0} | options
    return tqdm(iterable, total=total, initial=initial, desc=desc, unit=unit,
                disable=not enabled, **settings)


@dataclass
class Stop:
    interrupted: bool = False


@contextmanager
def stop_on_ctrl_c(log: Callable[[str], None], message: Callable[[], str]) -> Iterator[Stop]:
    """Run the loop inside; on Ctrl-C log ``message()`` (read then, so it can name the step)
    and carry on after the block with ``stop.interrupted`` set."""
    stop = Stop()
    try:
        yield stop
    except KeyboardInterrupt:
        stop.interrupted = True
        log(message())


def memory_available() -> int | None:
    """Memory the system can still give this process, in bytes (None where unknown): how
    large a run fits is checked against it before the run starts."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


class TimeBudget:
    """Seconds spent on a run (continuing a resumed run's count) against a budget in minutes."""

    def __init__(self, minutes: float | None, spent: float = 0.0) -> None:
        self.minutes = minutes
        self.start = time.time() - spent

    @property
    def spent(self) -> float:
        return time.time() - self.start

    def exhausted(self) -> bool:
        return bool(self.minutes) and self.spent >= self.minutes * 60
