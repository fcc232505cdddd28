"""Photoreal portraits (MobileStyleGAN, `generate --generator stylegan`): seconds per 1024 px
portrait as generate draws it by default (sample the candidates, steer, synthesise, the
readers' choice) and peak memory, beside moodshift's conditional GAN (48 px face upscaled to
1024 px) in the same run; then generate's styling of a drawn face (face-aware, unless
`--no-style`) on its own, and a styled portrait's total (the mix's mean plus the styling's).

Goal (issue #14): <= 2 s per 1024 px portrait on 2 cores. Two stylegan cases: a sad elderly
woman (the readers often misread elderly women's gender, so it usually draws more candidates: the
slow case), and a mix cycling through the emotions, age groups and genders, each on its own
cycle (what a portrait costs on average; its mean is reported beside the median). Wall time depends on
what else runs on the machine, so CPU seconds per portrait and the load average are reported too.
"""

from __future__ import annotations

import os
from pathlib import Path

from common import Measurement, run_child_script, write_report

# Runs in a child process so that its peak RSS is its own.
CHILD = r"""
import json, sys, time
from common import own_peak_rss_mb
kind, n = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
if kind.startswith("stylegan"):
    from moodshift.generate.stylegan.choose import (
        DEFAULT_CANDIDATES, DEFAULT_MORE_CANDIDATES, Ask, candidates_at_most, choose,
        load_candidate_reader)
    from moodshift.generate.stylegan.directions import load_directions
    from moodshift.generate.stylegan.generator import load_style_generator
    from moodshift.generate.stylegan.portraits import face_drawer
    from moodshift.emotions import EMOTIONS
    from moodshift.people import AGE_GROUPS, GENDERS
    gen, d = load_style_generator(), load_directions()
    _ = gen.mean_style
    reader = load_candidate_reader()
    draw = face_drawer(gen, d, 1024, True, preview=DEFAULT_CANDIDATES > 1)
    def ask(i):
        if kind == "stylegan":
            return Ask("sad", "elderly", "female")
        return Ask(EMOTIONS[i % 7], AGE_GROUPS[i % 5], GENDERS[i % 2])
    def drawn(i):
        asked = ask(i)
        most = candidates_at_most(DEFAULT_CANDIDATES, DEFAULT_MORE_CANDIDATES, (asked.emotion,))
        pool = gen.sample_styles(most, i, 0.7)
        return choose(pool, [asked], draw, reader, first=DEFAULT_CANDIDATES).faces[0]
    one = drawn
    if kind == "stylegan-style":
        # generate's styling of one drawn face (face-aware, each emotion in turn), timed alone
        from moodshift.generate.stylegan.portraits import style_portrait
        face = drawn(0)
        def one(i):
            return style_portrait(face, EMOTIONS[i % 7])[0]
else:
    from moodshift.generate.gan.generator import load_generator, upscale
    gen = load_generator()
    def one(i):
        return upscale(gen.generate(gen.sample_latent(1, i, 0.5), "sad", "elderly", "female")[0],
                       1024)
load = time.perf_counter() - t0
one(0)
wall, cpu = [], []
for i in range(1, n + 1):
    s, c = time.perf_counter(), time.process_time()
    img = one(i)
    wall.append(time.perf_counter() - s); cpu.append(time.process_time() - c)
assert img.shape == (1024, 1024, 3)
wall.sort(); cpu.sort()
print(json.dumps({"load_s": load, "median_s": wall[len(wall) // 2],
                  "mean_s": sum(wall) / len(wall),
                  "cpu_median_s": cpu[len(cpu) // 2],
                  "peak_rss_mb": own_peak_rss_mb()}))
"""


# Each emotion twice: disgust draws up to three times as many more candidates as the others, so
# a mix that asks some emotions more often than others (ten requests did) skews the average.
MIX_REQUESTS = 14


def measure(kind: str, n: int) -> dict[str, float]:
    return run_child_script(CHILD, kind, str(n))


def main() -> Path:
    n = int(os.environ.get("BENCH_STYLEGAN_N", "5"))
    rows, extra = [], {}
    from moodshift.generate.stylegan.choose import (
        DEFAULT_CANDIDATES,
        DEFAULT_MORE_CANDIDATES,
        MORE_FACTOR,
    )

    drawn = (f"best of {DEFAULT_CANDIDATES} candidates, up to {DEFAULT_MORE_CANDIDATES} more "
             f"(disgust {DEFAULT_MORE_CANDIDATES * MORE_FACTOR['disgust']}) while none is read "
             f"as asked")
    cases = (("stylegan", n, f"stylegan: one 1024 px portrait (sad, elderly, female; {drawn})"),
             ("stylegan-mix", MIX_REQUESTS, f"stylegan: one 1024 px portrait, asks cycling "
                                           f"through the emotions (each twice), age groups and "
                                           f"genders ({drawn})"),
             ("cgan", n, "cgan peer: one 48 px face upscaled to 1024 px"),
             ("stylegan-style", MIX_REQUESTS, "generate's styling of one drawn 1024 px face "
                                              "(face-aware, the seven emotions in turn; not in "
                                              "the rows above)"))
    for kind, runs, label in cases:
        m = measure(kind, runs)
        rows.append(Measurement(label, m["median_s"], m["peak_rss_mb"],
                                f"median of {runs} (mean {m['mean_s']:.2f} s); CPU "
                                f"{m['cpu_median_s']:.2f} s; model load {m['load_s']:.1f} s"))
        extra[f"{kind} CPU seconds per portrait"] = round(m["cpu_median_s"], 3)
        extra[f"{kind} mean seconds per portrait"] = round(m["mean_s"], 3)
    extra["ratio stylegan / cgan (wall)"] = round(rows[0].seconds / max(rows[2].seconds, 1e-9), 1)
    extra["styled portrait mean seconds (mix + styling)"] = round(
        extra["stylegan-mix mean seconds per portrait"]
        + extra["stylegan-style mean seconds per portrait"], 3)
    extra["goal"] = "<= 2 s per 1024 px portrait (stylegan)"
    extra["load average (1 min)"] = round(os.getloadavg()[0], 2)
    return write_report("stylegan", rows, extra)
