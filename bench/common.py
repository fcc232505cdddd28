"""Helpers shared by the benchmarks: timing subprocesses with their peak memory, and the report."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_rss_mb: float
    note: str = ""


BENCH_DIR = Path(__file__).resolve().parent


def own_peak_rss_mb() -> float:
    """This process's own peak resident memory. Linux's ru_maxrss of an exec'd child starts at
    the peak of the process that spawned it, so a small child of a large benchmark run would
    report its parent's; VmHWM belongs to the new address space alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child_script(script: str, *args: str) -> dict[str, object]:
    """Run a ``python -c`` benchmark script (it may ``from common import ...``) and return the
    JSON object its last output line holds."""
    out = subprocess.run([sys.executable, "-c", script, *args], check=True,
                         capture_output=True, text=True, cwd=BENCH_DIR)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_measured(name: str, argv: list[str], repeats: int = 3, note: str = "") -> Measurement:
    """Run a command `repeats` times; report the median wall time and the largest peak RSS."""
    times, peaks = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{name} failed: {' '.join(argv)}\n{stderr[-2000:]}")
        times.append(elapsed)
        peaks.append(usage.ru_maxrss / 1024)  # Linux reports KiB
    times.sort()
    return Measurement(name, times[len(times) // 2], max(peaks), note)


def write_report(title: str, rows: list[Measurement], extra: dict[str, object]) -> Path:
    """Write results/<title>.json and results/<title>.md (a table) and return the .md path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "machine": platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M")}
    data = {"title": title, "machine": machine, "rows": [asdict(r) for r in rows]} | extra
    (RESULTS / f"{title}.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [f"# {title}", "", f"{machine['cpus']} CPUs, Python {machine['python']}, "
             f"{machine['date']}", "", "| case | seconds | peak RSS (MB) | note |",
             "| --- | ---: | ---: | --- |"]
    lines += [f"| {r.name} | {r.seconds:.3f} | {r.peak_rss_mb:.0f} | {r.note} |" for r in rows]
    for key, value in extra.items():
        lines.append(f"\n**{key}**: {value}")
    md = RESULTS / f"{title}.md"
    md.write_text("\n".join(lines) + "\n")
    return md
