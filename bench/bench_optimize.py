"""optimize engine: time to reach a plain single-scale loop's final loss, and seconds per step.

For each size (256 and 512 px, longer side) both loops run in the same process, one after the
other, on the same photo, style, backbone and losses:

* reference: the seed's loop — fp32, RGB pixels, one scale, Nadam (lr 0.02, betas 0.99/0.999,
  eps 0.1, constant rate), REF_STEPS steps (engine options optimizer=nadam, multiscale=False,
  chroma_factor=1, jitter=0, precision=fp32);
* moodshift: the engine's own step plan for REF_STEPS steps (no extension), in three
  variants: its defaults (Adam with per-level cosine decay, coarse-to-fine, half-size chroma,
  jitter for the first 70 % of each level); coarse-to-fine alone (RGB pixels, no jitter); and
  the optimiser alone (Adam schedule, one scale, RGB pixels: the reference's parameterisation).

The figure is the time a variant needs until its full-size loss (no jitter, fp32) is at or
below the reference's final loss, divided by the reference's time (goal <= 1/3); a variant
that does not get there within its REF_STEPS steps (or the reference's time) reports its final
loss instead. Loss evaluations done only for this measurement are not counted. Seconds per
step are measured for every backbone; without real VGG weights on this machine, VGG timings
use random weights (speed does not depend on the values). The machine is shared: compare the
ratio, not absolute seconds (--threads 1 when another job holds a core: two threads then wait
on each other and times grow 10x).

    python bench/bench_optimize.py [--sizes 256 512] [--ref-steps 300]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from common import RESULTS, Measurement, write_report
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REF_STEPS = 300
TIME_CAP = 1.0
REFERENCE = {"optimizer": "nadam", "multiscale": False, "chroma_factor": 1, "jitter": 0,
             "precision": "fp32"}
VARIANTS = {"defaults": {}, "coarse-to-fine only": {"chroma_factor": 1, "jitter": 0},
            "optimiser only": {"multiscale": False, "chroma_factor": 1, "jitter": 0}}


def inputs() -> tuple[np.ndarray, np.ndarray, str]:
    photo = np.asarray(Image.open(ROOT / "src" / "moodshift" / "data" / "astronaut.png")
                       .convert("RGB"))
    painting = SHARED / "styles" / "starry_night.jpg"
    if painting.exists():
        return photo, np.asarray(Image.open(painting).convert("RGB")), painting.name
    from moodshift.style.procedural import style_image_for
    return photo, style_image_for("sad"), "procedural sad style"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # this process, so far


def time_to_reach(history: list[tuple[float, int, float]], last_level: int,
                  target: float) -> float | None:
    for seconds, level, total in history:
        if level == last_level and total <= target:
            return seconds
    return None


def compare(size: int, ref_steps: int, photo: np.ndarray, style: np.ndarray,
            backbone) -> dict[str, object]:
    from moodshift.style.engines.optimize import optimize_image
    from moodshift.style.engines.optimize_settings import parse_options

    base = {"size": size, "backbone": backbone.name}
    ref_settings = parse_options(base | {"steps": ref_steps} | REFERENCE)
    ref_img, ref = optimize_image(photo, [(style, 1.0)], ref_settings, backbone=backbone,
                                  progress=False)
    Image.fromarray(ref_img).save(RESULTS / "tmp" / f"optimize_{size}_reference.png")
    result: dict[str, object] = {"size": size, "reference_seconds": round(ref.seconds, 2),
                                 "reference_final_loss": round(ref.final.total, 4)}
    for variant, extra in VARIANTS.items():
        settings = parse_options(base | {"steps": ref_steps} | extra)
        img, ours = optimize_image(photo, [(style, 1.0)], settings, backbone=backbone,
                                   progress=False, record_every=1,
                                   stop_at_loss=ref.final.total,
                                   max_seconds=TIME_CAP * ref.seconds)  # goal missed past it
        Image.fromarray(img).save(RESULTS / "tmp" / f"optimize_{size}_{variant}.png")
        reached = time_to_reach(ours.history, len(ours.levels) - 1, ref.final.total)
        result[variant] = {
            "seconds_total": round(ours.seconds, 2), "final_loss": round(ours.final.total, 4),
            "seconds_to_reference_loss": None if reached is None else round(reached, 2),
            "ratio": None if reached is None else round(reached / ref.seconds, 3),
            "steps_done": ours.steps_done, "levels": ours.levels}
        print(f"  {size} px {variant}: {result[variant]}", file=sys.stderr, flush=True)
    return result


def seconds_per_step(backbone, size: int, steps: int = 3) -> float:
    from moodshift.style.losses import gram, style_loss

    x = torch.rand(1, 3, size, size, requires_grad=True)
    opt = torch.optim.NAdam([x], lr=0.02)
    with torch.no_grad():
        feats = backbone(torch.rand(1, 3, size, size))
        grams = {k: gram(feats[k])[0] for k in backbone.style_layers}
    times = []
    for _ in range(steps + 1):
        started = time.perf_counter()
        opt.zero_grad()
        style_loss(backbone(x), grams, backbone.style_layers).backward()
        opt.step()
        times.append(time.perf_counter() - started)
    return float(np.median(times[1:]))  # the first step warms up


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--ref-steps", type=int, default=REF_STEPS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv if argv is not None else [])
    torch.set_num_threads(args.threads)
    (RESULTS / "tmp").mkdir(parents=True, exist_ok=True)
    from moodshift.style.backbones import load_backbone
    from moodshift.style.backbones.vgg import VGGFeatures, expected_shapes

    photo, style, style_name = inputs()
    mobilenet = load_backbone("mobilenet")
    comparisons = []
    for size in args.sizes:
        print(f"optimize: comparing at {size} px ...", file=sys.stderr, flush=True)
        comparisons.append(compare(size, args.ref_steps, photo, style, mobilenet))
        print(f"  {comparisons[-1]}", file=sys.stderr, flush=True)
    rows: list[Measurement] = []
    for c in comparisons:
        rows.append(Measurement(f"reference loop, {args.ref_steps} steps, {c['size']} px",
                                float(c["reference_seconds"]), peak_mb(), "mobilenet"))
        for variant in VARIANTS:
            v = c[variant]
            rows.append(Measurement(f"{variant}: to the reference's loss, {c['size']} px",
                                    v["seconds_to_reference_loss"] or float("nan"), peak_mb(),
                                    f"ratio {v['ratio']}; final loss {v['final_loss']} vs "
                                    f"{c['reference_final_loss']}"))
    per_step: dict[str, float] = {}
    for name in ("mobilenet", "vgg16", "vgg19"):
        if name == "mobilenet":
            net = mobilenet
        else:  # random weights: only the speed is measured
            gen = torch.Generator().manual_seed(0)
            net = VGGFeatures(name, {k: torch.randn(s, generator=gen) * 0.01
                                     for k, s in expected_shapes(name).items()})
        for size in args.sizes:
            per_step[f"{name} {size}px"] = round(seconds_per_step(net, size), 3)
            rows.append(Measurement(f"seconds per step, {name}, {size} px",
                                    per_step[f"{name} {size}px"], peak_mb(),
                                    "" if name == "mobilenet" else "random weights (timing only)"))
    extra = {"style": style_name, "comparisons": comparisons, "seconds_per_step": per_step,
             "goal": "time to the reference's final loss <= 1/3 of the reference's time"}
    return write_report("optimize", rows, extra)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    report = main(sys.argv[1:])
    print(report.read_text())
