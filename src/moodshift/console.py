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


def run() -> None:
    """Entry point of the `moodshift` script and of `python -m moodshift`."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = INTERRUPTED
    sys.exit(code)
