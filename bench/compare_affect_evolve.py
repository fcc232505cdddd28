"""Affect generator vs MAP-Elites (`moodshift evolve`) on the seven emotion targets, one table.

Both methods optimise against the same frozen model (moodshift's shipped msnet expression
classifier, the whole image as the face) and are read by the same independent judges (fer,
faceapi) and the same diversity measure (moodshift.generate.affect.report: mean pairwise L1 of
grey 32x32 images).

- Affect generator: a trained model (``--generator``; default the shipped one), ``--n`` samples
  per target from fresh noise. Its cost is one training run for all seven targets (read from the
  model's history when available) plus sampling.
- MAP-Elites: one `moodshift evolve --target emotion:E` run per emotion (CPPN genome, the
  default objective x image-detail archive, ``--iterations`` x ``--batch`` evaluations), then
  its ``--n`` best elites by objective (an archive also keeps low-scoring cells on purpose:
  that is its detail/objective coverage, not its answer for the target).

Writes bench/results/affect_vs_evolve.{json,md} and affect_vs_evolve.png (per target, generator
samples above MAP-Elites elites). Usage:

    python bench/compare_affect_evolve.py [--generator MODEL] [--iterations 56] [--n 16]

56 iterations x 32 images x 7 targets = 12,544 classifier evaluations, about the 12,800
(800 steps x 16 images) the shipped generator's training used for all seven targets.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RUNS = RESULTS / "tmp" / "affect_vs_evolve"


def run_evolve(emotion: str, iterations: int, batch: int, size: int, seed: int) -> dict:
    """One MAP-Elites run (resumed if its folder already holds one); returns its result.json."""
    out = RUNS / f"evolve-{emotion}"
    done = out / "result.json"
    if done.exists():
        result = json.loads(done.read_text())
        if result["iterations"] >= iterations and result["batch"] == batch:
            result["out"] = str(out)
            return result
    cmd = [sys.executable, "-m", "moodshift", "evolve", "--target", f"emotion:{emotion}",
           "--genome", "cppn", "--iterations", str(iterations), "--batch", str(batch),
           "--size", str(size), "--seed", str(seed), "--judge", "none", "--no-progress",
           "--json", "--out", str(out)]
    if (out / "checkpoint.pkl").exists():  # also a run stopped before writing result.json
        cmd.append("--resume")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"evolve failed for {emotion}: {proc.stderr.strip()[-500:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["out"] = str(out)
    return result


def best_elites(result: dict, n: int) -> np.ndarray:
    from moodshift.imageio import load_image

    out = Path(result["out"])
    best = sorted(result["best"].values(), key=lambda e: -e["objective"])[:n]
    return np.stack([load_image(out / e["image"]) for e in best])


def score(images: dict[str, np.ndarray], method: str, judges: dict[str, object]):
    from moodshift.generate.affect.report import AffectReport, score_emotion

    report = AffectReport(method, "emotion")
    for target, imgs in images.items():
        for name, model in judges.items():
            report.scores.append(score_emotion(target, imgs, name, model))
    return report


def markdown(reports: list, costs: dict[str, str], judge_names: list[str]) -> str:
    head = "| target | method | n | " + " | ".join(f"{j} agreement" for j in judge_names) + \
        " | diversity |"
    lines = ["# Affect generator vs MAP-Elites (same targets, same judges)", "", head,
             "| " + " | ".join(["---"] * (4 + len(judge_names))) + " |"]
    from moodshift.emotions import EMOTIONS

    def row(report, target):
        by = {s.judge: s for s in report.scores if s.target == target}
        first = next(iter(by.values()))
        vals = " | ".join(f"{by[j].agreement:.3f}" for j in judge_names)
        return f"| {target} | {report.method} | {first.n} | {vals} | {first.diversity:.3f} |"

    for target in EMOTIONS:
        for report in reports:
            lines.append(row(report, target))
    for report in reports:
        means = " | ".join(f"**{report.mean_agreement(j):.3f}**" for j in judge_names)
        div = np.mean([s.diversity for s in report.scores if s.judge == judge_names[0]])
        lines.append(f"| **mean** | {report.method} | | {means} | **{div:.3f}** |")
    lines += ["", "Cost:"] + [f"- {m}: {c}" for m, c in costs.items()]
    lines += ["", "Agreement: share of a method's images whose most probable class (judge given "
              "the whole image as the face) is the target. Diversity: mean pairwise L1 of grey "
              "32x32 images (0..1). The model both methods optimise against "
              "(`moodshift`, msnet) is shown for contrast; it is not an independent judge."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", help="affect generator (default: the shipped one)")
    parser.add_argument("--iterations", type=int, default=56)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--n", type=int, default=16, help="images per target and method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=48, help="image side for evolve (48: the "
                        "shipped generator's)")
    parser.add_argument("--evolve-only", action="store_true",
                        help="only run (or finish) the MAP-Elites runs")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from moodshift.emotions import EMOTIONS
    from moodshift.generate.affect.generator import load_affect_generator
    from moodshift.generate.affect.report import load_judges, sample_grid

    RUNS.mkdir(parents=True, exist_ok=True)
    results = {}
    for e in EMOTIONS:
        results[e] = run_evolve(e, args.iterations, args.batch, args.size, args.seed)
        print(f"evolve {e}: {results[e]['evaluations']} evaluations, "
              f"{results[e]['seconds']} s", flush=True)
    if args.evolve_only:
        return 0
    gen = load_affect_generator(args.generator)
    judge_names = ["fer", "faceapi"]
    judges = load_judges(judge_names)
    judges["moodshift (optimised against)"] = load_judges(["moodshift"])["moodshift"]
    judge_names = list(judges)

    t0 = time.time()
    generated = {e: gen.generate(e, args.n, seed=10_000 + i) for i, e in enumerate(EMOTIONS)}
    sample_s = time.time() - t0
    train_s = gen.config.get("train_seconds")
    evolved = {e: best_elites(results[e], args.n) for e in EMOTIONS}

    reports = [score(generated, "affect generator", judges),
               score(evolved, "MAP-Elites (top elites)", judges)]
    evals = sum(r["evaluations"] for r in results.values())
    evo_s = sum(r["seconds"] for r in results.values())
    steps = gen.config.get("steps", 0)
    per_step = int(gen.config.get("images_per_step", 16))  # models before this key: batch 8 x 2
    costs = {"affect generator": f"one training run for all targets ({steps} steps x {per_step} "
                                 f"images = {per_step * int(steps)} classifier forward+backward "
                                 "passes"
                                 + (f", {train_s:.0f} s" if train_s else "")
                                 + f"), then {sample_s:.2f} s for {7 * args.n} samples",
             "MAP-Elites": f"{evals} classifier evaluations in {evo_s:.0f} s "
                           f"({args.iterations} iterations x {args.batch} per target)"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"generator": gen.source, "n": args.n, "costs": costs,
               "evolve": {e: {k: r[k] for k in ("iterations", "evaluations", "coverage",
                                                "best_objective", "seconds")}
                          for e, r in results.items()},
               "reports": [r.to_json() for r in reports]}
    (RESULTS / "affect_vs_evolve.json").write_text(json.dumps(payload, indent=1) + "\n")
    (RESULTS / "affect_vs_evolve.md").write_text(markdown(reports, costs, judge_names))
    grid = {}
    for e in EMOTIONS:
        grid[f"{e} gen"] = generated[e]
        grid[f"{e} ME"] = evolved[e]
    sample_grid(grid, RESULTS / "affect_vs_evolve.png", columns=8)
    print((RESULTS / "affect_vs_evolve.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
