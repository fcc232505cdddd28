"""read-text: cold start (a fresh `moodshift read-text` process), latency per text after start-up
(one text per call and in batches), peak memory, for the embedding and the lexicon backend.

Goal (issue #5): <= 20 ms per text after start-up; cold start and memory reported.
The sentence model runs on one thread, so the CPU time per call is what the call costs on an idle
core; wall time is also reported, with the load average, because a shared machine inflates it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from common import Measurement, run_child_script, run_measured, write_report

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "src" / "moodshift" / "data" / "text" / "heldout.tsv"

# Runs in a child process so that its peak RSS is its own.
WARM = r"""
import json, statistics, sys, time
from common import own_peak_rss_mb
from moodshift.text import read_text
backend, path = sys.argv[1], sys.argv[2]
texts = [l.split("\t", 1)[1] for l in open(path, encoding="utf-8").read().splitlines()[1:] if l]
t0 = time.perf_counter(); read_text([texts[0]], backend=backend); first = time.perf_counter() - t0
single, cpu = [], []
for t in texts:
    s, c = time.perf_counter(), time.process_time()
    read_text([t], backend=backend)
    single.append(time.perf_counter() - s); cpu.append(time.process_time() - c)
s = time.perf_counter(); read_text(texts, backend=backend); batch = time.perf_counter() - s
single.sort()
print(json.dumps({"first_call_s": first, "n": len(texts),
                  "single_median_ms": 1000 * statistics.median(single),
                  "single_p95_ms": 1000 * single[int(0.95 * (len(single) - 1))],
                  "single_cpu_median_ms": 1000 * statistics.median(cpu),
                  "batch_per_text_ms": 1000 * batch / len(texts),
                  "peak_rss_mb": own_peak_rss_mb()}))
"""


def warm_latency(backend: str) -> dict[str, float]:
    return run_child_script(WARM, backend, str(HELDOUT))


def cold_start_cpu(argv: list[str], repeats: int = 3) -> float:
    """Median user+system CPU seconds of a fresh process (what it costs on an idle machine)."""
    import resource

    costs = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        costs.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return sorted(costs)[len(costs) // 2]


def main() -> Path:
    ms = str(BIN / "moodshift")
    text = "an old man beaming at his grandchildren"
    rows: list[Measurement] = [
        run_measured("cold start: moodshift read-text (embedding)",
                     [ms, "read-text", text, "--json", "--backend", "embedding"],
                     note="process start, model load, one text"),
        run_measured("cold start: moodshift read-text (lexicon)",
                     [ms, "read-text", text, "--json", "--backend", "lexicon"]),
    ]
    extra: dict[str, object] = {
        "cold start CPU seconds (embedding)": round(cold_start_cpu(
            [ms, "read-text", text, "--backend", "embedding"]), 2)}
    for backend in ("embedding", "lexicon"):
        w = warm_latency(backend)
        rows.append(Measurement(f"{backend}: one text per call, median (after start-up)",
                                w["single_median_ms"] / 1000, w["peak_rss_mb"],
                                f"p95 {w['single_p95_ms']:.1f} ms over {w['n']} texts; "
                                f"CPU time median {w['single_cpu_median_ms']:.1f} ms"))
        rows.append(Measurement(f"{backend}: batch of {w['n']}, per text",
                                w["batch_per_text_ms"] / 1000, w["peak_rss_mb"]))
        extra[f"{backend} warm latency"] = {k: round(v, 2) for k, v in w.items()}
    extra["load average during the run (1 min)"] = round(os.getloadavg()[0], 2)
    extra["goal"] = "<= 20 ms per text after start-up"
    return write_report("read_text", rows, extra)


if __name__ == "__main__":
    print(main().read_text())
