"""Image mood: the human-rated model (ONNX Runtime backbone + numpy heads) beside the colour
model: cold start (a fresh process: imports, model load, one image), latency per 1024 px image
after start-up, images per second, peak memory.

Goal (issue #12): <= 30 ms per 1024 px image after start-up; cold start and memory reported.
Wall time on a shared machine is inflated by other work: the CPU time per image, the fastest
image and the load average are reported beside the median.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from common import Measurement, run_child_script, run_measured, write_report

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "examples" / "astronaut.png"
IMAGES = 20

# Runs in a child process so that its peak RSS and start-up are its own.
COLD = r"""
import sys
from moodshift.imageio import load_image
from moodshift.mood import load_mood_model
load_mood_model(sys.argv[1]).measure(load_image(sys.argv[2]))
"""

WARM = r"""
import json, statistics, sys, time
from common import own_peak_rss_mb
import cv2, numpy as np
from moodshift.imageio import load_image
from moodshift.mood import load_mood_model
name, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = cv2.resize(load_image(path), (1024, 1024), interpolation=cv2.INTER_CUBIC)
rng = np.random.default_rng(0)
images = [np.clip(base.astype(np.int16) + rng.integers(-20, 21, 3), 0, 255).astype(np.uint8)
          for _ in range(n)]
t0 = time.perf_counter(); model = load_mood_model(name); model.measure(images[0])
first = time.perf_counter() - t0
heads = getattr(model, "heads", None)
what = "" if heads is None else f"{heads.config.get('backbone')}, {'+'.join(heads.views)}"
wall, cpu = [], []
for img in images:
    s, c = time.perf_counter(), time.process_time()
    model.measure(img)
    wall.append(time.perf_counter() - s); cpu.append(time.process_time() - c)
print(json.dumps({"load_and_first_s": first, "n": n, "backbone": what,
                  "median_ms": 1000 * statistics.median(wall), "fastest_ms": 1000 * min(wall),
                  "cpu_median_ms": 1000 * statistics.median(cpu),
                  "images_per_s": n / sum(wall),
                  "peak_rss_mb": own_peak_rss_mb()}))
"""


def warm(name: str) -> dict[str, object]:
    return run_child_script(WARM, name, str(PHOTO), str(IMAGES))


def main() -> Path:
    rows: list[Measurement] = []
    extra: dict[str, object] = {}
    for name in ("default", "colour"):
        rows.append(run_measured(f"cold start: {name} (process, imports, load, one image)",
                                 [sys.executable, "-c", COLD, name, str(PHOTO)]))
        w = warm(name)
        what = f" ({w['backbone']})" if w["backbone"] else ""
        rows.append(Measurement(f"{name}{what}: one 1024 px image, median after start-up",
                                w["median_ms"] / 1000, w["peak_rss_mb"],
                                f"CPU {w['cpu_median_ms']:.1f} ms; fastest "
                                f"{w['fastest_ms']:.1f} ms; {w['images_per_s']:.1f} "
                                f"images/s over {w['n']}"))
        extra[f"{name} warm"] = {k: round(v, 3) if isinstance(v, float) else v
                                 for k, v in w.items()}
    d, c = extra["default warm"], extra["colour warm"]
    extra["default / colour time per image"] = round(d["median_ms"] / c["median_ms"], 1)
    extra["load average during the run (1 min)"] = round(os.getloadavg()[0], 2)
    extra["goal"] = "<= 30 ms per 1024 px image after start-up (human-rated model)"
    return write_report("mood", rows, extra)


if __name__ == "__main__":
    print(main().read_text())
