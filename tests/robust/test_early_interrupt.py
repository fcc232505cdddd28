"""Ctrl-C while moodshift is still loading its modules: one line, exit 130, no traceback.

A meta-path hook sends the process SIGINT at the moment a chosen module starts to import, so
the interrupt lands inside the import machinery exactly where a user's early Ctrl-C does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moodshift.fuzzing.regressions import SIGINT_AT_IMPORT

ROOT = Path(__file__).resolve().parents[2]
GROUP = ROOT / "examples" / "group.jpg"


def default_sigint() -> None:
    """In the child: SIGINT as a terminal delivers it. An ignored SIGINT is inherited across
    exec (background jobs, or a test that left it ignored), and Python then never raises
    KeyboardInterrupt, which is right for such a process but not what is tested here."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("module", ["moodshift.cli", "argparse", "moodshift.emotions", "numpy",
                                    "PIL.Image", "moodshift.analyze", "onnxruntime"])
def test_ctrl_c_while_modules_load_is_one_line_and_130(module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", SIGINT_AT_IMPORT, module, "analyze", str(GROUP)],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
                          preexec_fn=default_sigint)
    assert proc.stderr == "moodshift: interrupted\n", proc.stderr[-2000:]
    assert proc.returncode == 130


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_real_sigint_soon_after_start_has_no_traceback() -> None:
    """A real SIGINT at a few moments in the first seconds of `python -m moodshift`. Before the
    interpreter reaches moodshift's code (its own start-up) it may die of the signal silently;
    from then on the answer is always the one line."""
    # enough work that the run is still going when the last signal lands, on an idle machine too
    images = [str(GROUP)] * 40
    for delay in (0.8, 1.5):
        proc = subprocess.Popen([sys.executable, "-m", "moodshift", "analyze", *images],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
                                preexec_fn=default_sigint)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
        assert "Traceback" not in err, err[-2000:]
        if proc.returncode != -signal.SIGINT:
            assert (proc.returncode, err) == (130, "moodshift: interrupted\n")


def test_an_import_error_a_ctrl_c_caused_is_reported_as_the_interrupt(capsys) -> None:
    """An extension module interrupted while it initialises raises an ImportError: raised from
    the KeyboardInterrupt, or (numpy's C import) with no trace of it. Either is one line, 130."""
    from moodshift.cli.common import for_each_image
    from moodshift.errors import count_interrupts, interrupted

    def from_interrupt(path: str) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc

    with pytest.raises(KeyboardInterrupt):
        for_each_image([str(GROUP)], from_interrupt)
    # Python's own handler, as a CLI process starts with (earlier tests, Ray, may have set theirs)
    original = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        count_interrupts()()  # a run counts from zero
        assert not interrupted(ImportError("import numpy failed"))
        restore = count_interrupts()
        try:
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)  # the handler runs at the next bytecode; never sleeps this long
            assert interrupted(ImportError("import numpy failed"))
        finally:
            restore()
        # the count ends with the run: later errors in this process are errors again
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert not interrupted(ImportError("import numpy failed"))
    finally:
        signal.signal(signal.SIGINT, original)
    assert capsys.readouterr().err == ""


def test_cli_main_is_still_an_entry_point(capsys) -> None:
    from moodshift.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and "moodshift" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_a_training_like_ctrl_c(content_dir: Path, style_file: Path,
                                              tmp_path: Path) -> None:
    """`kill PID` (SIGTERM: service managers, batch schedulers, a job started in the background
    where SIGINT is ignored) ends a training as Ctrl-C does: a checkpoint to resume from, the
    one line, exit 130, no traceback."""
    out = tmp_path / "term.onnx"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moodshift", "train", "style", "--style", str(style_file),
         "--content", str(content_dir), "--out", str(out), "--steps", "100000", "--size", "32",
         "--batch", "1", "--width", "4", "--backbone", "mobilenet", "--threads", "1",
         "--checkpoint-every", "100000", "--sample-every", "100000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    samples = tmp_path / "term_training" / "samples"   # made just before the first step
    deadline = time.monotonic() + 240
    while not samples.is_dir() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    output, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted at step" in output + err
    # the one line on stderr (it went only to stdout before), saying how to go on
    assert err.strip().splitlines()[-1] == ("moodshift: interrupted; resume with the same "
                                            "command and --resume")
    assert (tmp_path / "term_training" / "checkpoint.pt").is_file() and out.is_file()


# Runs the command line with Thread.start patched: a moment after the transformer's background
# compile starts, the process sends itself SIGINT, so the interrupt lands while that thread is
# inside OpenVINO (where a user's Ctrl-C half a second into `stylize` lands). The marker file
# says the compile did start (without OpenVINO there is no such thread).
SIGINT_WHILE_COMPILING = """
import os, signal, sys, threading
MARK, DELAY = sys.argv.pop(1), float(sys.argv.pop(1))
start = threading.Thread.start
def start_then_interrupt(self):
    start(self)
    if self.name == "moodshift-compile":
        open(MARK, "w").close()
        threading.Timer(DELAY, os.kill, (os.getpid(), signal.SIGINT)).start()
threading.Thread.start = start_then_interrupt
from moodshift.console import run
run()
"""


@pytest.mark.parametrize("delay", [0.05, 0.15])
def test_ctrl_c_while_the_transformer_compiles_is_one_line_and_130(tmp_path: Path,
                                                                   delay: float) -> None:
    mark = tmp_path / "compile-started"
    proc = subprocess.run([sys.executable, "-c", SIGINT_WHILE_COMPILING, str(mark), str(delay),
                           "stylize",
                           str(GROUP), "--emotion", "sad", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
                          preexec_fn=default_sigint)
    if not mark.exists():
        pytest.skip("the transformer was not compiled in the background (no OpenVINO here)")
    # before: the one line, then the interpreter's shutdown aborted around the compiling thread
    # ("terminate called without an active exception", exit -6) or crashed (-11)
    assert (proc.returncode, proc.stderr) == (130, "moodshift: interrupted\n"), proc.stderr[-2000:]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
