"""The five failure classes of the robustness review, kept as fixed cases with expected outcomes.

1. tiny images (1x1, 2x2, 3x100000, 65535x3, 100000x3) are styled; a folder run with a bad file goes on
   and exits 2;
2. small files decoding to nearly 50 MP stay under the memory limit (a 1 KB JPEG claiming
   7000x7000 is refused as truncated);
3. `generate --seed -1` is a one-line error;
4. `evolve --batch 1000000000` and `--iterations 10**12` are refused with the estimate;
5. Ctrl-C while modules load prints "moodshift: interrupted" and exits 130;
plus a symlink loop reported as one.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from moodshift.fuzzing.corpus import Case, jpeg_with_size
from moodshift.fuzzing.harness import Limits, Worker, classify, classify_cli, run_measured

# ``python -c SIGINT_AT_IMPORT <module> <moodshift args...>``: runs the command line with a
# meta-path hook that sends SIGINT when <module> starts importing, where a user's early Ctrl-C
# lands (also used by tests/robust/test_early_interrupt.py).
SIGINT_AT_IMPORT = """
import os, signal, sys
WHEN = sys.argv.pop(1)
class Trip:
    def find_spec(self, name, path=None, target=None):
        if name == WHEN:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Trip())
from moodshift.console import run
run()
"""


def _png(path: Path, shape: tuple[int, int], fill: int | None = None) -> Path:
    if fill is None:
        arr = np.random.default_rng(sum(shape)).integers(0, 256, shape + (3,), dtype=np.uint8)
        Image.fromarray(arr).save(path)
    else:
        Image.new("L", (shape[1], shape[0]), fill).save(path)
    return path


def build_regression_files(folder: Path, quick: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {f"tiny {w}x{h}": _png(folder / f"tiny-{w}x{h}.png", (h, w))
             for w, h in ((1, 1), (2, 2), (3, 100000), (65535, 3), (100000, 3))}
    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16, 3), 100, np.uint8)).save(buf, "JPEG")
    claims = folder / "claims-7000x7000.jpg"
    claims.write_bytes(jpeg_with_size(buf.getvalue(), 7000, 7000))
    files["1 KB JPEG claiming 7000x7000"] = claims
    if not quick:
        files["zero-filled 7000x7000 PNG"] = _png(folder / "zero-7000.png", (7000, 7000), 0)
        files["16000x3000 PNG"] = _png(folder / "zero-16000x3000.png", (3000, 16000), 0)
        webp = folder / "zero-16383x2047.webp"
        Image.new("RGB", (16383, 2047), 0).save(webp, lossless=True)
        files["16383x2047 WebP"] = webp
    loop = folder / "loop.png"
    if not loop.is_symlink():
        loop.symlink_to(loop.name)
    files["symlink loop"] = loop
    return files


def run_regressions(folder: Path, limits: Limits, quick: bool = False,
                    log: Callable[[str], None] = print) -> list[dict[str, object]]:
    files = build_regression_files(folder, quick)
    rows: list[dict[str, object]] = []

    def record(name: str, expected: str, got: str, passed: bool, seconds: float, peak: int,
               message: str = "") -> None:
        rows.append({"name": name, "expected": expected, "got": got, "passed": bool(passed),
                     "seconds": round(seconds, 1), "peak_mb": round(peak / 2**20),
                     "message": message[:500]})
        log(f"  {'ok  ' if passed else 'FAIL'} {name}: {got} ({seconds:.1f} s, "
            f"{peak / 2**20:.0f} MB) {message[:200] if not passed else ''}")

    # 1 and 2 in the library, at the library's default working size.
    worker = Worker(folder / "worker.log")
    try:
        for name, path in files.items():
            expected = ("clean_error: symlink loop" if name == "symlink loop" else
                        "clean_error: truncated" if name.startswith("1 KB") else "success")
            out = folder / "out" / (path.stem + ".png")
            answer = worker.call({"path": str(path), "target": "stylize", "out": str(out),
                                  "max_pixels": "default"},  # the library's working size
                                 limits.regression, 2 * limits.memory_bytes)
            cls, message = classify(answer, limits.memory_bytes)
            want_cls, _, word = expected.partition(": ")
            passed = cls == want_cls and (not word or word in message)
            if passed and cls == "success":
                with Image.open(out) as img:
                    passed = img.size == Image.open(path).size
            record(f"stylize {name}", expected, cls, passed, float(answer.get("seconds", 0)),
                   int(answer.get("peak_bytes", 0)), message)
    finally:
        worker.stop()

    ms = [sys.executable, "-m", "moodshift"]
    # 1: a folder run goes on after a bad file and exits 2.
    batch = folder / "batch"
    batch.mkdir(exist_ok=True)
    _png(batch / "a.png", (40, 50))
    _png(batch / "b.png", (1, 1))
    (batch / "c.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    _png(batch / "d.png", (30, 20))
    out = folder / "batch-out"
    code, _, err, peak, seconds = run_measured(
        ms + ["stylize", str(batch), "--emotion", "sad", "-o", str(out)], limits.cli)
    made = sorted(p.name for p in out.iterdir()) if out.exists() else []
    passed = (code == 2 and made == ["a.sad.png", "b.sad.png", "d.sad.png"]
              and err.count("\n") == 1 and "c.png" in err)
    record("folder run with a bad file", "exit 2, 3 outputs, 1 error line",
           f"exit {code}, {made}", passed, seconds, peak, err)

    # 3 and 4: bad option values, one line each.
    for name, argv in (
            ("generate --seed -1", ["generate", "--emotion", "happy", "--seed", "-1", "-o",
                                    str(folder / "g.png")]),
            ("evolve --batch 1000000000", ["evolve", "--target", "emotions", "--iterations",
                                           "10", "--batch", "1000000000", "--out",
                                           str(folder / "ev")]),
            ("evolve --iterations 10**12", ["evolve", "--target", "emotions", "--iterations",
                                            str(10**12), "--out", str(folder / "ev")])):
        code, _, err, peak, seconds = run_measured(ms + argv, limits.cli)
        cls, message = classify_cli(code, err, peak, limits.memory_bytes)
        record(name, "clean_error", cls, cls == "clean_error", seconds, peak, message)

    # 5: Ctrl-C while modules load.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for module in ("moodshift.cli", "numpy", "moodshift.analyze", "onnxruntime"):
        code, _, err, peak, seconds = run_measured(
            [sys.executable, "-c", SIGINT_AT_IMPORT, module, "analyze", str(files["tiny 1x1"])],
            limits.cli, env=env)
        passed = code == 130 and err == "moodshift: interrupted\n"
        record(f"Ctrl-C while importing {module}", "exit 130, one line",
               f"exit {code}, {err.count(chr(10))} line(s)", passed, seconds, peak, err)
    return rows


def regression_cases(folder: Path, quick: bool = True) -> list[Case]:
    """The regression images as corpus cases (for front ends that take a list of files)."""
    return [Case(str(p), "regression", name)
            for name, p in build_regression_files(folder, quick).items()]
