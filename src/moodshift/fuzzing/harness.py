"""The pieces of the fuzz harness: limits, the watched worker process, measured command runs,
input fingerprints and the classification of one run."""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CLASSES = ("success", "clean_error", "traceback", "hang", "over_memory", "input_modified",
           "partial_output")
FAILING = ("traceback", "hang", "over_memory", "input_modified", "partial_output")
GIB = 2**30


@dataclass
class Limits:
    """Per-call time limits (seconds) and the peak-memory ceiling for one process."""

    load: float = 20.0
    analyze: float = 90.0
    stylize: float = 180.0
    cli: float = 240.0
    regression: float = 900.0   # the near-50 MP regression images at the default working size
    memory_bytes: int = int(1.5 * GIB)
    # The fuzz corpus is styled at this working size: its files test parsing and shapes, not
    # throughput (the regression images run at the library's default working size).
    max_pixels: int = 1_000_000

    def seconds(self, target: str) -> float:
        return float(getattr(self, target))


# ---- watching a process ----------------------------------------------------------------------

def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Worker:
    """One long-lived worker process; call() sends a request and waits with limits."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.buffer = b""

    def start(self) -> None:
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "moodshift.fuzzing.worker"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, env=env)
        self.buffer = b""

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def call(self, request: dict[str, object], seconds: float,
             memory_kill: int) -> dict[str, object]:
        """The worker's answer, or {"outcome": "hang"|"killed"|"died", ...}."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode())
            proc.stdin.flush()
        except BrokenPipeError:
            self.stop()
            return {"outcome": "died", "message": "worker exited", "peak_bytes": 0}
        deadline = time.monotonic() + seconds
        peak = 0
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop()
                    return {"outcome": "hang", "message": f"no answer in {seconds:.0f} s",
                            "peak_bytes": peak}
                peak = max(peak, _rss_bytes(proc.pid))
                if peak > memory_kill:
                    self.stop()
                    return {"outcome": "killed", "message": f"RSS passed {memory_kill / GIB:.1f}"
                            " GiB", "peak_bytes": peak}
                if sel.select(timeout=min(0.1, left)):
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        code = proc.wait()
                        self.stop()
                        return {"outcome": "died", "message": f"worker exited with {code}",
                                "peak_bytes": peak}
                    self.buffer += chunk
        finally:
            sel.close()
        line, _, self.buffer = self.buffer.partition(b"\n")
        answer = json.loads(line)
        answer["peak_bytes"] = max(int(answer.get("peak_bytes", 0)), peak)
        return answer


def fingerprint(path: str) -> tuple[object, ...]:
    """What a run must not change about an input: type, link target, size and content."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return ("missing", exc.errno)
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return ("file", info.st_size, digest.hexdigest())
    if stat.S_ISDIR(info.st_mode):
        return ("dir", tuple(sorted(os.listdir(path))))
    return ("special", stat.S_IFMT(info.st_mode), info.st_rdev)


def output_problem(folder: Path, succeeded: bool) -> str | None:
    """Why the output folder of one stylize run is wrong (None when it is right)."""
    from PIL import Image

    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    if not succeeded:
        return f"failed run left {files}" if files else None
    if len(files) != 1 or not files[0].endswith(".png"):
        return f"expected one PNG, found {files}"
    try:
        with Image.open(folder / files[0]) as img:
            img.load()
    except Exception as exc:  # noqa: BLE001 - any failure to read back is a partial output
        return f"output does not decode ({type(exc).__name__}: {exc})"
    return None


def classify(answer: dict[str, object], limit: int) -> tuple[str, str]:
    outcome = str(answer.get("outcome"))
    message = str(answer.get("message", ""))
    if outcome == "hang":
        return "hang", message
    if outcome == "killed" or int(answer.get("peak_bytes", 0)) > limit:
        return "over_memory", f"peak {int(answer.get('peak_bytes', 0)) / 2**20:.0f} MB; {message}"
    if outcome in ("exception", "died"):
        return "traceback", message
    if outcome == "user_error":
        return ("clean_error", message) if "\n" not in message.strip() else ("traceback", message)
    return "success", message


def _default_sigint() -> None:
    """In a child: SIGINT delivered as from a terminal, even when this harness runs with it
    ignored (a background job), which every child would otherwise inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_measured(argv: list[str], seconds: float, env: dict[str, str] | None = None,
                 sigint_after: float | None = None) -> tuple[int | None, str, str, int, float]:
    """(exit code or None on timeout, stdout, stderr, peak RSS bytes, seconds) of a command."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=env or dict(os.environ, OMP_NUM_THREADS="1"),
                                preexec_fn=_default_sigint if os.name == "posix" else None)
        code: int | None = None
        usage = None
        sent = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            elapsed = time.monotonic() - started
            if sigint_after is not None and not sent and elapsed >= sigint_after:
                proc.send_signal(signal.SIGINT)
                sent = True
            if elapsed > seconds:
                proc.kill()
                _, _, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = code if code is not None else -9
        out.seek(0)
        err.seek(0)
        peak = usage.ru_maxrss * 1024 if usage is not None else 0
        return (code, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                peak, time.monotonic() - started)


def classify_cli(code: int | None, stderr: str, peak: int, limit: int) -> tuple[str, str]:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if code is None:
        return "hang", "timed out"
    if peak > limit:
        return "over_memory", f"peak {peak / 2**20:.0f} MB"
    if "Traceback" in stderr or code not in (0, 2):
        return "traceback", f"exit {code}: " + " | ".join(lines[-3:])
    if code == 2:
        ok = len(lines) == 1 and lines[0].startswith("moodshift: error: ")
        return ("clean_error", lines[0]) if ok else ("traceback", " | ".join(lines[-3:]))
    return "success", ""
