"""Expression classifiers' throughput: faces per second at batch 64, moodshift vs its peers.

Each model classifies the same 64 faces laid out as an 8x8 mosaic with one box per tile, so the
timing covers what `predict` really does (crop, resize, normalise, network, softmax), not the
network alone.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from common import Measurement, write_report
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TILE = 112
BATCH = 64


def face_mosaic() -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    photo = Image.open(ROOT / "src" / "moodshift" / "data" / "astronaut.png").convert("RGB")
    face = photo.crop((170, 60, 280, 185))  # the astronaut's face
    rng = np.random.default_rng(0)
    side = 8
    canvas = np.zeros((side * TILE, side * TILE, 3), np.uint8)
    boxes = []
    for i in range(BATCH):
        tile = face.rotate(float(rng.uniform(-10, 10))).resize((TILE, TILE))
        if rng.random() < 0.5:
            tile = tile.transpose(Image.FLIP_LEFT_RIGHT)
        y, x = divmod(i, side)
        canvas[y * TILE:(y + 1) * TILE, x * TILE:(x + 1) * TILE] = np.asarray(tile)
        boxes.append((x * TILE, y * TILE, TILE, TILE))
    return canvas, boxes


def main() -> Path:
    from moodshift.errors import UserError
    from moodshift.expression.load import load_expression_model

    image, boxes = face_mosaic()
    rows: list[Measurement] = []
    rates: dict[str, float] = {}
    def candidates():
        yield "moodshift", lambda: load_expression_model("moodshift")  # the shipped int8 network
        from moodshift.expression.own_runtime import load_float_onnx
        yield "moodshift-float32", load_float_onnx
        # The same shipped network through PyTorch: bf16 on CPUs with AMX, what batch jobs use.
        from moodshift.expression.own import MoodshiftExpression
        yield "moodshift-torch", MoodshiftExpression.shipped
        yield "faceapi", lambda: load_expression_model("faceapi")
        yield "fer", lambda: load_expression_model("fer")

    for name, load in candidates():
        try:
            model = load()
            if model is None:
                raise UserError("no float32 ONNX export (run moodshift models pull)")
        except UserError as exc:
            rows.append(Measurement(name, float("nan"), float("nan"), f"not available: {exc}"))
            continue
        model.predict(image, boxes)  # warm-up: sessions, caches
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            probs = model.predict(image, boxes)
            runs.append(time.perf_counter() - started)
        assert np.allclose(np.asarray(probs).sum(axis=1), 1.0, atol=1e-4)
        best = sorted(runs)[len(runs) // 2]
        rates[name] = BATCH / best
        rows.append(Measurement(f"{name}: {BATCH} faces", best, float("nan"),
                                f"{rates[name]:.0f} faces/s"))
    extra: dict[str, object] = {"faces per second": {k: round(v) for k, v in rates.items()},
                                "goal": "moodshift >= 2000 faces/s at batch 64"}
    if rates:
        for ours in ("moodshift", "moodshift-torch"):
            for peer in ("faceapi", "fer"):
                if ours in rates and peer in rates:
                    extra[f"ratio {ours} / {peer} (faces/s)"] = round(rates[ours] / rates[peer], 2)
    return write_report("expression", rows, extra)


if __name__ == "__main__":
    print(main().read_text())
