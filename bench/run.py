"""`make bench`: run every benchmark, writing bench/results/*.json and *.md tables."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

BENCHMARKS = ["bench_stylize", "bench_expression", "bench_evolve", "bench_text", "bench_web",
              "bench_stylegan"]
BENCHMARKS.append("bench_mood")  # human-rated mood model vs colour model, 1024 px images
BENCHMARKS.append("bench_batch")  # batch on local processes vs Ray, 1 and 2 workers
BENCHMARKS.append("bench_optimize")  # the optimize engine (slow: 3 runs x 300 steps x 2 sizes)
BENCHMARKS.append("bench_memory")    # stylize of ~50 MP images (slow: minutes per case)


def main() -> int:
    for name in BENCHMARKS:
        print(f"== {name}", flush=True)
        report = importlib.import_module(name).main()
        print(report.read_text(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
