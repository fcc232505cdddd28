"""`make bench`: run every benchmark, writing bench/results/*.json and *.md tables.

Each benchmark runs in a process of its own: on Linux a child's peak-memory figure (ru_maxrss)
starts at the peak of the process that spawned it, so the commands one benchmark times would
otherwise report the memory an earlier benchmark used in this process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = ["bench_stylize", "bench_expression", "bench_evolve", "bench_text", "bench_web",
              "bench_stylegan"]
BENCHMARKS.append("bench_mood")  # human-rated mood model vs colour model, 1024 px images
BENCHMARKS.append("bench_batch")  # batch on local processes vs Ray, 1 and 2 workers
BENCHMARKS.append("bench_optimize")  # the optimize engine (slow: 3 runs x 300 steps x 2 sizes)
BENCHMARKS.append("bench_memory")    # stylize of ~50 MP images (slow: minutes per case)


def main(names: list[str] | None = None) -> int:
    unknown = sorted(set(names or []) - set(BENCHMARKS))
    if unknown:
        print(f"bench/run.py: unknown benchmark {', '.join(unknown)} "
              f"(valid: {', '.join(BENCHMARKS)})", file=sys.stderr)
        return 2
    failed = []
    for name in names or BENCHMARKS:
        print(f"== {name}", flush=True)
        code = subprocess.run([sys.executable, "-c",
                               f"import {name}; print({name}.main().read_text(), flush=True)"],
                              cwd=HERE).returncode
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
