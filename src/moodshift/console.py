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

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, handler)


# Threads the library starts for work in the background (the transformer's compile while faces
# are read) are named with this prefix. They may be inside native code (OpenVINO) when the
# command ends, and an interpreter shutting down around such a thread aborts ("terminate called
# without an active exception", or a segfault): a normal exit waits for them, an interrupted
# one ends the process at once.
BACKGROUND_THREADS = "moodshift-"


def run() -> None:
    """Entry point of the `moodshift` script and of `python -m moodshift`."""
    try:
        code = main()
        if code != INTERRUPTED:
            _wait_for_background_threads()
    except KeyboardInterrupt:
        code = INTERRUPTED
    if code == INTERRUPTED:
        _exit_at_once(code)
    sys.exit(code)


def _wait_for_background_threads() -> None:
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith(BACKGROUND_THREADS) and thread is not threading.current_thread():
            thread.join()


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
