"""Before/after sheets of the optimize engine's speckle fix (issue #4), from the current defaults.

"before" is the same engine with engine options multiscale=False, chroma_factor=1, jitter=0
(RGB pixels, one scale); "after" is the engine's defaults. MobileNet backbone, 256 px, 120 steps,
seed 0, on LFW portraits (a fixed choice from the sorted list) with The Starry Night and The
Scream. Writes docs/images/optimize_speckle.png (whole pictures) and optimize_speckle_zoom.png
(4x nearest-neighbour crops of the face).

    .venv/bin/python bench/optimize_sheets.py [--portraits 3] [--steps 120]
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "docs" / "images"
PAINTINGS = {"starry_night.jpg": "The Starry Night", "the_scream.jpg": "The Scream"}
BEFORE = {"multiscale": False, "chroma_factor": 1, "jitter": 0}  # raw pixels, one scale
SIZE, CROP, ZOOM, LABEL_H = 256, 64, 4, 14
MAX_BYTES = 400_000


def pick_portraits(count: int) -> list[Path]:
    """`count` portraits spread evenly over the sorted LFW list (the same ones every run)."""
    files = sorted((SHARED / "portraits" / "lfw").glob("*.jpg"))
    return [files[i * len(files) // count] for i in range(count)]


Row = tuple[str, list[np.ndarray]]  # a label and its tiles


def sheet(header: list[str], rows: list[Row], tile: int) -> Image.Image:
    """A grid under a strip of column labels; each row: a label strip, then its tiles."""
    font = ImageFont.load_default()
    row_h = LABEL_H + tile
    canvas = Image.new("RGB", (len(header) * tile, LABEL_H + len(rows) * row_h), "white")
    draw = ImageDraw.Draw(canvas)
    for c, label in enumerate(header):
        draw.text((c * tile + 2, 1), label, fill="black", font=font)
    for r, (row_label, images) in enumerate(rows):
        top = LABEL_H + r * row_h
        draw.text((2, top + 1), row_label, fill=(90, 90, 90), font=font)
        for c, image in enumerate(images):
            canvas.paste(Image.fromarray(image), (c * tile, top + LABEL_H))
    return canvas


def pixel_detail(tile: np.ndarray) -> tuple[float, float]:
    """Mean |value - its 3x3 mean| (0..255) of luminance and of colour (CbCr, BT.601): the
    pixel-scale detail; colour speckle raises the second, strokes live in the first."""
    ycc = tile.astype(np.float32) @ np.array([[0.299, -0.168736, 0.5], [0.587, -0.331264,
                                              -0.418688], [0.114, 0.5, -0.081312]], np.float32)
    p = np.pad(ycc, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = tile.shape[:2]
    detail = np.abs(ycc - sum(p[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9)
    return float(detail[..., 0].mean()), float(detail[..., 1:].mean())


def save_small(image: Image.Image, path: Path) -> str:
    """Write a PNG atomically (moodshift's temp file + rename), fewer colours until < MAX_BYTES.

    True colour when it fits; else an undithered palette (dither noise would look like the
    speckle the sheets are about). Returns what was written, for the log."""
    from moodshift.imageio import atomic_write_bytes

    for colours in (None, 256, 192, 128, 112, 96, 88, 80, 72, 64, 48, 32):
        candidate = image if colours is None else image.quantize(
            colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        candidate.save(buffer, format="PNG", optimize=True)
        if buffer.tell() < MAX_BYTES:
            break
    atomic_write_bytes(path, buffer.getvalue())
    return f"{buffer.tell() // 1000} KB, {colours or 'true'} colours"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=int, default=3, choices=range(1, 5))
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps {args.steps}: must be at least 1")
    paintings = [SHARED / "styles" / name for name in PAINTINGS]
    missing = [p for p in paintings + [SHARED / "portraits" / "lfw"] if not p.exists()]
    if missing:
        print(f"optimize_sheets: {missing[0]} not found (needs ../shared)", file=sys.stderr)
        return 2

    import torch
    from tqdm import tqdm

    from moodshift.style.backbones import load_backbone
    from moodshift.style.engines.optimize import optimize_image, to_tensor, to_uint8
    from moodshift.style.engines.optimize_settings import parse_options

    torch.set_num_threads(2)
    backbone = load_backbone("mobilenet")
    base = {"size": SIZE, "steps": args.steps, "backbone": "mobilenet"}
    header = ["content"] + [f"{when}: {PAINTINGS[p.name]}" for p in paintings
                            for when in ("before", "after")]
    whole, zoom = [], []
    bar = tqdm(total=args.portraits * len(paintings) * 2, desc="sheets", unit="run")
    for photo_path in pick_portraits(args.portraits):
        photo = np.asarray(Image.open(photo_path).convert("RGB"))
        images = []
        for painting_path in paintings:
            painting = np.asarray(Image.open(painting_path).convert("RGB"))
            for extra in (BEFORE, {}):  # before, then after (the defaults)
                out, _ = optimize_image(photo, [(painting, 1.0)], parse_options(base | extra),
                                        backbone=backbone, progress=False)
                images.append(out)
                bar.update(1)
        h, w = images[0].shape[:2]
        images.insert(0, to_uint8(to_tensor(photo, (h, w))))  # the photo at the working size
        label = photo_path.stem.rsplit("_", 1)[0].replace("_", " ")
        whole.append((label, images))
        top, left = h * 5 // 16, (w - CROP) // 2  # eyes and nose of an LFW-framed face
        crops = [im[top:top + CROP, left:left + CROP] for im in images]
        for k, painting_path in enumerate(paintings):
            (lb, cb), (la, ca) = (pixel_detail(crops[1 + 2 * k + a]) for a in (0, 1))
            bar.write(f"{label} x {PAINTINGS[painting_path.name]}, face crop: colour detail "
                      f"{cb:.2f} -> {ca:.2f}, luminance detail {lb:.2f} -> {la:.2f}")
        zoom.append((f"{label}, {ZOOM}x nearest-neighbour crop", [np.asarray(Image.fromarray(
            crop).resize((CROP * ZOOM,) * 2, Image.NEAREST)) for crop in crops]))
    bar.close()
    for rows, name in ((whole, "optimize_speckle.png"), (zoom, "optimize_speckle_zoom.png")):
        print(f"wrote {OUT / name} ({save_small(sheet(header, rows, SIZE), OUT / name)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
