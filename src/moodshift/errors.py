"""Errors a user can act on. The CLI prints their message on one line and exits with code 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# The exit code of an interrupted command (128 + SIGINT), as shells report one; moodshift.console
# keeps its own copy, since it imports nothing before the command line loads.
INTERRUPTED = 130


class UserError(Exception):
    """A mistake in the user's input (file, option, data): reported without a traceback."""

    exit_code = 2


class InputFileError(UserError):
    """A specific input file cannot be used; the message names the file."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelMissingError(UserError):
    """A named model is not in the cache; tells the user how to get it."""



_interrupts = 0   # Ctrl-Cs seen since count_interrupts() was called


def count_interrupts() -> Callable[[], None]:
    """From now on count each Ctrl-C (SIGINT), still raising KeyboardInterrupt as Python does;
    returns the function that ends the count and puts the previous handler back. The handler
    stays as it is where SIGINT is ignored or handled by someone else (a background job, a
    server)."""
    import signal

    global _interrupts
    _interrupts = 0
    previous = signal.getsignal(signal.SIGINT)
    ours = previous is signal.default_int_handler

    def handler(signum, frame):
        global _interrupts
        _interrupts += 1
        raise KeyboardInterrupt

    def stop() -> None:
        global _interrupts
        _interrupts = 0
        if ours:
            signal.signal(signal.SIGINT, previous)

    if ours:
        signal.signal(signal.SIGINT, handler)
    return stop


def interrupted(exc: BaseException) -> bool:
    """Whether a Ctrl-C caused ``exc``. An extension module whose initialisation is interrupted
    reports an ImportError instead ("initialization failed", "import numpy failed"), sometimes
    raised from the KeyboardInterrupt and sometimes with no trace of it, hence the count."""
    if _interrupts:
        return True
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
