"""Peak memory and time of `stylize` on small files that decode to nearly 50 megapixels.

The robustness review found a 48 KB zero-filled 7000x7000 PNG taking 185 s and 4.4 GB, and a
1 KB JPEG claiming 7000x7000 decoding (grey-filled) to 49 MP. Goal: <= 1.5 GiB peak RSS for
every accepted image, time proportional to pixels, the short JPEG refused. Each case is a fresh
`moodshift stylize` process; its peak RSS comes from wait4.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, Measurement, write_report
from PIL import Image

GOAL_MB = 1.5 * 1024


def _files(folder: Path) -> list[tuple[str, Path, list[str]]]:
    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    png = folder / "zero7000.png"
    Image.new("L", (7000, 7000), 0).save(png)
    cases += [("zero-filled 7000x7000 PNG (48 KB)", png, []),
              ("same, --max-pixels 50000000 (every pixel)", png, ["--max-pixels", "50000000"])]
    wide = folder / "zero16000x3000.png"
    Image.new("RGB", (16000, 3000), 0).save(wide)
    cases.append(("16000x3000 PNG", wide, []))
    webp = folder / "zero16383x2047.webp"
    Image.new("RGB", (16383, 2047), 0).save(webp, lossless=True)
    cases.append(("16383x2047 WebP", webp, []))
    strip = folder / "zero49999x1000.png"
    Image.new("L", (49999, 1000), 0).save(strip)
    cases.append(("49999x1000 PNG (widest band)", strip, []))
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 90, 90)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = (7000).to_bytes(2, "big") * 2
    jpeg = folder / "claims7000.jpg"
    jpeg.write_bytes(bytes(data))
    cases.append(("1 KB JPEG claiming 7000x7000 (refused)", jpeg, []))
    return cases


def _measure(name: str, argv: list[str], timeout: float = 3600) -> Measurement:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - started > timeout:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    code = os.waitstatus_to_exitcode(status)
    err = (proc.stderr.read().decode(errors="replace").strip().splitlines() or [""])[-1]
    return Measurement(name, time.perf_counter() - started, usage.ru_maxrss / 1024,
                       f"exit {code}" + (f": {err[:120]}" if code else ""))


def main() -> Path:
    tmp = RESULTS / "tmp" / "memory"
    rows = [_measure(name, [sys.executable, "-m", "moodshift", "stylize", str(path),
                            "--emotion", "sad", "-o", str(tmp / "out" / f"{path.stem}.png"),
                            *extra])
            for name, path, extra in _files(tmp)]
    worst = max(r.peak_rss_mb for r in rows)
    return write_report("memory", rows, {"largest peak RSS (MB)": round(worst),
                                         "goal": f"peak <= {GOAL_MB:.0f} MB for every case",
                                         "met": worst <= GOAL_MB})


if __name__ == "__main__":
    print(main().read_text())
