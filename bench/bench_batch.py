"""`moodshift batch` throughput: analyze and stylize of 1024 px photos with 1 and 2 workers, on
local processes and on Ray (a local Ray instance), and Ray's start-up cost.

Each case is one fresh `moodshift batch ... --json` process, timed whole (what a user waits for):
  wall          the whole command, start-up included
  startup       until the first result came back (workers started, models loaded, one item)
  images/s      items / wall
  steady/s      items after the first / (wall - startup): the rate once every worker is busy
  per worker/s  1 / the mean seconds one item took inside a worker (read, work, write)
The machine's load average is recorded with the figures: on a shared machine they move with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, Measurement, write_report
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
N_IMAGES = int(os.environ.get("BENCH_BATCH_IMAGES", "8"))
SIZE = 1024


def make_photos(folder: Path, n: int = N_IMAGES) -> Path:
    """n different 1024 px photos: crops and mirror images of the shipped astronaut."""
    folder.mkdir(parents=True, exist_ok=True)
    src = Image.open(ROOT / "src" / "moodshift" / "data" / "astronaut.png").convert("RGB")
    w, h = src.size
    for i in range(n):
        m = (i % 4) * w // 32
        img = src.crop((m, m, w - m, h - m))
        img = ImageOps.mirror(img) if i % 2 else img
        img.resize((SIZE, SIZE), Image.LANCZOS).save(folder / f"photo{i:02d}.jpg", quality=95)
    return folder


def run_case(task: str, photos: Path, out: Path, workers: int, ray: bool) -> dict:
    argv = [sys.executable, "-m", "moodshift", "batch", task, str(photos), str(out),
            "--workers", str(workers), "--batch-size", "1", "--json"]
    argv += ["--emotion", "sad"] if task == "stylize" else []
    argv += ["--ray", "local"] if ray else []
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{stderr[-2000:]}")
    summary = json.loads(stdout.splitlines()[-1])
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    item_seconds = sum(r["seconds"] for r in rows) / len(rows)
    n = summary["done"]
    steady = (n - 1) / (wall - summary["startup_seconds"]) if n > 1 else 0.0
    return {"task": task, "runner": "ray" if ray else "local", "workers": workers, "images": n,
            "wall_s": round(wall, 2), "startup_s": summary["startup_seconds"],
            "images_per_s": round(n / wall, 3), "steady_images_per_s": round(steady, 3),
            "per_worker_images_per_s": round(1 / item_seconds, 3),
            # the largest of the command and the processes it reaped: local workers count, Ray's
            # actors (children of Ray's own daemons) do not
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "load_avg_1min": round(load, 1)}


def ray_init_seconds() -> float:
    code = ("import time, ray; t = time.perf_counter(); "
            "ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False); "
            "print(time.perf_counter() - t); ray.shutdown()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return round(float(out.strip().splitlines()[-1]), 2)


def main() -> Path:
    tmp = RESULTS / "tmp" / "batch"
    photos = make_photos(tmp / "photos")
    cases = []
    for task in ("analyze", "stylize"):
        for ray in (False, True):
            for workers in (1, 2):
                out = tmp / f"{task}-{'ray' if ray else 'local'}-{workers}"
                if out.exists():
                    import shutil
                    shutil.rmtree(out)
                case = run_case(task, photos, out, workers, ray)
                print(json.dumps(case), flush=True)
                cases.append(case)
    init = ray_init_seconds()
    rows = [Measurement(f"batch {c['task']} {c['runner']} x{c['workers']}", c["wall_s"],
                        c["peak_rss_mb"],
                        f"{c['images_per_s']} img/s overall, {c['steady_images_per_s']} steady, "
                        f"{c['per_worker_images_per_s']} per worker; start-up {c['startup_s']} s;"
                        f" load {c['load_avg_1min']}") for c in cases]

    def ratio(task: str, workers: int, key: str) -> float:
        by = {(c["task"], c["runner"], c["workers"]): c for c in cases}
        return round(by[(task, "ray", workers)][key] / by[(task, "local", workers)][key], 3)

    extra = {"cases": cases, "images": N_IMAGES, "size_px": SIZE, "cpus": os.cpu_count(),
             "ray.init seconds (local instance, 2 CPUs)": init,
             "ratio ray/local wall, stylize x2": ratio("stylize", 2, "wall_s"),
             "ratio ray/local steady rate, stylize x2": ratio("stylize", 2,
                                                              "steady_images_per_s"),
             "load average (1, 5, 15 min) at the end": [round(v, 1) for v in os.getloadavg()]}
    return write_report("batch", rows, extra)


if __name__ == "__main__":
    print(main().read_text())
