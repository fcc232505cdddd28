"""The `moodshift` console script, kept tiny on purpose.

It imports nothing but `sys` before its try block, so Ctrl-C while the command line and the
numeric libraries are still loading (the first second or so) ends like any later interrupt: the
one line "moodshift: interrupted" and exit code 130, never a KeyboardInterrupt traceback (nor the
import error a half-loaded extension module can raise afterwards).
"""

import sys

INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    try:
        _terminate_like_ctrl_c()
        from moodshift.cli import main as cli_main

        return cli_main(argv)
    except KeyboardInterrupt:
        try:
            print("moodshift: interrupted", file=sys.stderr, flush=True)
        except KeyboardInterrupt:  # a second Ctrl-C while printing: still no traceback
            pass
        return INTERRUPTED


def _terminate_like_ctrl_c() -> None:
    """SIGTERM (`kill`, service managers, batch schedulers) stops a command the way Ctrl-C
    does: trainers write their checkpoint, the one line, exit 130. Only in this process: a forked
    worker that inherits the handler still dies of the signal as before. A SIGTERM handler that
    is already there (an embedding program's) is left alone."""
    import os
    import signal

    owner = os.getpid()

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt

    # marks it for loops that defer an interrupt to a safe point (evolve's), which may replace
    # this handler but not an embedding program's
    handler.raises_keyboard_interrupt = True  # type: ignore[attr-defined]
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, handler)


# The transformer's compile runs in a background thread with this name while faces are read.
# It may be inside native code (OpenVINO) when the command ends, and an interpreter shutting
# down around it aborts ("terminate called without an active exception", or a segfault): a
# normal exit waits for it (a compile takes under a second; the wait is bounded all the same),
# an interrupted one ends the process at once.
COMPILE_THREAD = "moodshift-compile"
COMPILE_WAIT_SECONDS = 60.0


def run() -> None:
    """Entry point of the `moodshift` script and of `python -m moodshift`."""
    try:
        code = main()
        if code != INTERRUPTED:
            _wait_for_the_compile()
    except KeyboardInterrupt:  # while waiting, or a second Ctrl-C that escaped main
        try:
            print("moodshift: interrupted", file=sys.stderr, flush=True)
        except (KeyboardInterrupt, OSError, ValueError):
            pass
        code = INTERRUPTED
    if code == INTERRUPTED:
        _exit_at_once(code)
    sys.exit(code)


def _wait_for_the_compile() -> None:
    import threading

    for thread in threading.enumerate():
        if thread.name == COMPILE_THREAD:
            thread.join(COMPILE_WAIT_SECONDS)


def _exit_at_once(code: int) -> None:
    """Exit without the interpreter's shutdown (nothing is left to clean up: outputs are
    written atomically and trainers saved their checkpoint before the 130 came back)."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, KeyboardInterrupt):  # a closed pipe or stream: nothing to keep
            pass
    os._exit(code)
