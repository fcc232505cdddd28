"""Pictures made of pictures: image grids with labels and captions, and figures as PNG bytes.

The one home for grid and figure writing (evolve's archive grids, the affect generator's sample
sheets, the face generators' emotion x person grids, training curves); callers write the result
with moodshift.imageio.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from moodshift.drawing import default_font
from moodshift.emotions import EMOTIONS
from moodshift.imageio import atomic_write_bytes
from moodshift.people import AGE_GROUPS, GENDERS

EMPTY_GREY = 96     # the colour of an empty grid cell
# The columns of the generators' grids: every age group x gender.
PERSON_COLUMNS = [(a, g) for a in AGE_GROUPS for g in GENDERS]


def image_grid(rows: list[list[np.ndarray | None]], tile: int,
               row_labels: list[str] | None = None,
               captions: list[list[str]] | None = None, nearest: bool = False) -> Image.Image:
    """Tiles of ``tile`` px in rows (None: an empty grey tile), with an optional label left of
    each row and an optional caption (lines split by newline) under each tile.

    The one grid writer for evolve's archive grids and the affect generator's sample sheets."""
    gap, line_h = 2, 13
    font = default_font(12)
    label_w = 0
    if row_labels:
        label_w = 8 + max(int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(t, font=font))
                          for t in row_labels)
    caption_h = max((c.count("\n") + 1 for r in captions or [] for c in r), default=0) * line_h
    ncols = max(len(r) for r in rows)
    row_h = tile + caption_h + gap
    canvas = Image.new("RGB", (label_w + ncols * (tile + gap) + gap, len(rows) * row_h + gap),
                       (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    resample = Image.NEAREST if nearest else Image.BILINEAR
    for r, row in enumerate(rows):
        y = gap + r * row_h
        if row_labels:
            draw.text((4, y + tile // 2 - 7), row_labels[r], fill=(0, 0, 0), font=font)
        for c, img in enumerate(row):
            x = label_w + gap + c * (tile + gap)
            canvas.paste(Image.new("RGB", (tile, tile), (EMPTY_GREY,) * 3) if img is None else
                         Image.fromarray(img).convert("RGB").resize((tile, tile), resample),
                         (x, y))
            if captions:
                for k, text in enumerate(captions[r][c].split("\n")):
                    draw.text((x + 2, y + tile + 1 + k * line_h), text, fill=(0, 0, 0),
                              font=font)
    return canvas


def emotion_person_sheet(rows: Iterable[Iterable[np.ndarray]], cell: int) -> np.ndarray:
    """The face generators' grid: one row per emotion (EMOTIONS' order, labelled on the left),
    one column per PERSON_COLUMNS entry (age group and gender on top); ``rows`` yields each
    row's faces, ``cell`` px square, so a row can be drawn while the previous one is pasted."""
    label_w, label_h = 90, 34
    sheet = Image.new("RGB", (label_w + cell * len(PERSON_COLUMNS),
                              label_h + cell * len(EMOTIONS)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for c, (a, g) in enumerate(PERSON_COLUMNS):
        draw.text((label_w + c * cell + 4, 4), a.replace("_", " "), fill="black", font=font)
        draw.text((label_w + c * cell + 4, 18), g, fill="black", font=font)
    for r, (emotion, faces) in enumerate(zip(EMOTIONS, rows)):
        draw.text((4, label_h + r * cell + cell // 2 - 6), emotion, fill="black", font=font)
        for c, face in enumerate(faces):
            sheet.paste(Image.fromarray(face), (label_w + c * cell, label_h + r * cell))
    return np.asarray(sheet)


def figure_png(fig: Any, dpi: int = 100, tight: bool = True) -> bytes:
    """A matplotlib figure as PNG bytes (trimmed to its content unless tight is False)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    return buf.getvalue()


def save_figure(fig: Any, path: Path, dpi: int = 100) -> None:
    """Write a matplotlib figure as a PNG file (atomically) and close it."""
    import matplotlib.pyplot as plt

    try:
        data = figure_png(fig, dpi, tight=False)
    finally:
        plt.close(fig)
    atomic_write_bytes(path, data)
