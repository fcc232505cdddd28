"""`make fuzz` / `python -m moodshift.fuzzing`: hostile inputs through load, analyze and stylize.

Every case runs in a worker process (moodshift.fuzzing.worker; restarted after a hang or a
memory kill) under a per-call time limit, with the call's peak RSS measured; a sample also runs
through the real command line. Each run lands in exactly one class (the worst that applies):

  hang > over_memory > traceback > partial_output > input_modified > clean_error | success

and the issue's five fixed failure classes run as regression cases with an expected outcome.
The report is JSON plus a Markdown table; the exit code is 1 if any run is a hang, over_memory,
traceback, partial_output or input_modified, or a regression case fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from moodshift.fuzzing.corpus import Case, build_corpus
from moodshift.fuzzing.harness import (
    CLASSES,
    FAILING,
    Limits,
    Worker,
    classify,
    classify_cli,
    fingerprint,
    output_problem,
    run_measured,
)
from moodshift.fuzzing.regressions import run_regressions

TARGETS = ("load", "analyze", "stylize")


# ---- one result ------------------------------------------------------------------------------

@dataclass
class Result:
    case: Case
    target: str
    cls: str
    seconds: float
    peak_bytes: int
    message: str = ""

    def to_json(self) -> dict[str, object]:
        return {"path": self.case.path, "kind": self.case.kind, "note": self.case.note,
                "target": self.target, "class": self.cls, "seconds": round(self.seconds, 3),
                "peak_mb": round(self.peak_bytes / 2**20, 1), "message": self.message[:2000]}


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    regressions: list[dict[str, object]] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for r in self.results:
            row = table.setdefault(r.target, {c: 0 for c in CLASSES})
            row[r.cls] += 1
        return table

    def failures(self) -> list[Result]:
        return [r for r in self.results if r.cls in FAILING]

    def ok(self) -> bool:
        return not self.failures() and all(r["passed"] for r in self.regressions)

    def to_json(self, files: int, seconds: float) -> dict[str, object]:
        kinds: dict[str, dict[str, int]] = {}
        for r in self.results:
            row = kinds.setdefault(r.case.kind, {c: 0 for c in CLASSES})
            row[r.cls] += 1
        peaks = [r.peak_bytes for r in self.results]
        return {"files": files, "runs": len(self.results), "seconds": round(seconds, 1),
                "passed": self.ok(), "counts": self.counts(), "by_kind": kinds,
                "max_peak_mb": round(max(peaks, default=0) / 2**20, 1),
                "failures": [r.to_json() for r in self.failures()],
                "regressions": self.regressions}

    def table(self, files: int) -> str:
        lines = [f"{files} files; {len(self.results)} runs", "",
                 "| target | " + " | ".join(CLASSES) + " |",
                 "| --- |" + " ---: |" * len(CLASSES)]
        for target, row in self.counts().items():
            lines.append(f"| {target} | " + " | ".join(str(row[c]) for c in CLASSES) + " |")
        if self.regressions:
            lines += ["", "| regression case | expected | got | passed | seconds | peak MB |",
                      "| --- | --- | --- | --- | ---: | ---: |"]
            for r in self.regressions:
                lines.append(f"| {r['name']} | {r['expected']} | {r['got']} | "
                             f"{'yes' if r['passed'] else 'NO'} | {r['seconds']} | "
                             f"{r['peak_mb']} |")
        return "\n".join(lines) + "\n"


# ---- the library runs ------------------------------------------------------------------------

def run_library(cases: list[Case], work: Path, limits: Limits, report: Report,
                targets: tuple[str, ...] = TARGETS, per_shape: int | None = 4,
                log=print) -> None:
    """Every case through load; analyze and stylize for each file that loads, except that once
    per_shape files of one decoded size (and kind) have been through them, more files of that
    size are only loaded (mutated copies of one seed decode to the same 64x80 picture again and
    again; the parsers are what they exercise). per_shape=None runs every loaded file."""
    worker = Worker(work / "worker.log")
    kill_at = 2 * limits.memory_bytes
    seen: dict[tuple[str, str], int] = {}
    try:
        for i, case in enumerate(cases):
            before = fingerprint(case.path)
            loaded = True
            for target in targets:
                if target != "load" and not loaded:
                    break  # analyze and stylize start by loading: the same refusal
                out_dir = work / "out" / f"{i:05d}"
                request = {"path": case.path, "target": target,
                           "out": str(out_dir / "styled.png"), "max_pixels": limits.max_pixels}
                answer = worker.call(request, limits.seconds(target), kill_at)
                cls, message = classify(answer, limits.memory_bytes)
                if target == "load":
                    loaded = cls == "success"
                    if loaded and per_shape is not None:
                        key = (case.kind, message)  # message: the decoded "WxH"
                        seen[key] = seen.get(key, 0) + 1
                        loaded = seen[key] <= per_shape
                if target == "stylize" and cls in ("success", "clean_error"):
                    problem = output_problem(out_dir, cls == "success")
                    if problem:
                        cls, message = "partial_output", problem
                if cls in ("success", "clean_error") and fingerprint(case.path) != before:
                    cls, message = "input_modified", f"{case.path} changed"
                report.results.append(Result(case, target, cls, float(answer.get("seconds", 0)),
                                             int(answer.get("peak_bytes", 0)), message))
                if cls in FAILING:
                    log(f"  {cls}: {case.kind} {case.path!r} {target}: {message.splitlines()[0] if message else ''}")
                shutil.rmtree(out_dir, ignore_errors=True)
            if (i + 1) % 100 == 0:
                log(f"{i + 1}/{len(cases)} files")
    finally:
        worker.stop()


# ---- real command-line runs ------------------------------------------------------------------

def cli_sample(cases: list[Case], n: int) -> list[Case]:
    """n cases spread over every kind (round robin), in a stable order."""
    by_kind: dict[str, list[Case]] = {}
    for c in cases:
        by_kind.setdefault(c.kind, []).append(c)
    picked: list[Case] = []
    while len(picked) < n and any(by_kind.values()):
        for kind in sorted(by_kind):
            if by_kind[kind] and len(picked) < n:
                picked.append(by_kind[kind].pop(0))
    return picked


def run_cli(cases: list[Case], work: Path, limits: Limits, report: Report, log=print) -> None:
    ms = [sys.executable, "-m", "moodshift"]
    for i, case in enumerate(cases):
        before = fingerprint(case.path)
        out_dir = work / "cli" / f"{i:04d}"
        for target, argv in (
                ("cli analyze", ms + ["analyze", os.path.abspath(case.path), "--json"]),
                ("cli stylize", ms + ["stylize", os.path.abspath(case.path), "--emotion", "sad",
                                      "-o", str(out_dir), "--max-pixels",
                                      str(limits.max_pixels)])):
            code, _, err, peak, seconds = run_measured(argv, limits.cli)
            cls, message = classify_cli(code, err, peak, limits.memory_bytes)
            if target == "cli stylize" and cls in ("success", "clean_error"):
                problem = output_problem(out_dir, code == 0)
                if problem:
                    cls, message = "partial_output", problem
            if cls in ("success", "clean_error") and fingerprint(case.path) != before:
                cls, message = "input_modified", f"{case.path} changed"
            report.results.append(Result(case, target, cls, seconds, peak, message))
            if cls in FAILING:
                log(f"  {cls}: {case.kind} {case.path!r} {target}: {message}")
        shutil.rmtree(out_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m moodshift.fuzzing", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="corpus size (default 2000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--every", action="store_true",
                   help="analyze and stylize every file that loads (default: at most 4 per "
                        "decoded size and kind; all files are loaded)")
    p.add_argument("--cli-sample", type=int, default=40, metavar="N",
                   help="cases that also run through the command line (default 40)")
    p.add_argument("--regressions", choices=["all", "quick", "none", "only"], default="all",
                   help="the fixed failure cases: all, quick (without the ~50 MP images), none, "
                        "or only (all of them and no corpus)")
    p.add_argument("--out", type=Path, default=Path("fuzz-results"),
                   help="report folder (fuzz.json, fuzz.md); default fuzz-results/")
    p.add_argument("--work", type=Path, help="corpus and scratch folder (default: a temp dir)")
    p.add_argument("--limit-scale", type=float, default=1.0,
                   help="multiply every time limit (a slower or busier machine)")
    args = p.parse_args(argv)

    limits = Limits()
    for name in ("load", "analyze", "stylize", "cli", "regression"):
        setattr(limits, name, getattr(limits, name) * args.limit_scale)
    work = args.work or Path(tempfile.mkdtemp(prefix="moodshift-fuzz-"))
    corpus = work / "corpus"
    started = time.monotonic()
    only = args.regressions == "only"
    cases = [] if only else build_corpus(corpus, args.n, args.seed)
    print(f"corpus: {len(cases)} files in {corpus}", flush=True)
    report = Report()

    def log(text: str) -> None:
        print(text, flush=True)

    run_library(cases, work, limits, report, per_shape=None if args.every else 4, log=log)
    if args.cli_sample and not only:
        log(f"command line: {args.cli_sample} files")
        run_cli(cli_sample(cases, args.cli_sample), work, limits, report, log=log)
    if args.regressions != "none":
        log("regression cases")
        report.regressions = run_regressions(work / "regressions", limits,
                                             quick=args.regressions == "quick", log=log)
    args.out.mkdir(parents=True, exist_ok=True)
    data = report.to_json(len(cases), time.monotonic() - started)
    (args.out / "fuzz.json").write_text(json.dumps(data, indent=1) + "\n")
    table = report.table(len(cases))
    (args.out / "fuzz.md").write_text("# moodshift fuzz\n\n" + table)
    print(table, flush=True)
    print(f"report: {args.out / 'fuzz.json'}; {'PASSED' if report.ok() else 'FAILED'}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if report.ok() else 1
