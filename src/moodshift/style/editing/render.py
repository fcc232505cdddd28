"""A portrait rendered for an emotion: faces edited toward it, then styled region by region.

Order: expression edit on the photo at full resolution (moodshift.style.editing.expression) ->
the engine stylises the edited photo -> face-aware blend (moodshift.style.editing.portrait) of
that over the edited photo with only the emotion's colour grade. With no faces, or all region
strengths at 1, the result is the engine's output as before.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from moodshift.errors import ModelMissingError
from moodshift.style.editing.expression import FaceEdit
from moodshift.style.editing.portrait import (
    RegionStrengths,
    compose,
    face_outlines,
    region_weights,
)
from moodshift.style.look import apply_look, mean_look

Box = tuple[int, int, int, int]


def graded_photo(image: np.ndarray, mix: dict[str, float], palette: object,
                 strength: float) -> np.ndarray:
    """The photo with only the emotion's colour grade (no strokes), at the palette strength."""
    from moodshift.style.color import Grade, finish

    entries = {e: palette[e] for e in mix}  # type: ignore[index]
    anchored = sum(w for e, w in mix.items() if entries[e].tone == "photo") >= 0.5
    grade = Grade(**{f: sum(w * getattr(entries[e].grade, f) for e, w in mix.items())
                     for f in ("brightness", "contrast", "saturation", "warmth")})
    return finish(image, image, grade, strength, anchored)


def render_faces(image: np.ndarray, boxes: list[Box], mix: dict[str, float], palette: object,
                 strength: float, expression: float, regions: RegionStrengths,
                 stylize_fn: Callable[[np.ndarray], np.ndarray]
                 ) -> tuple[np.ndarray, list[FaceEdit], dict[str, float] | None]:
    """(output, per-face edits, region strengths used or None when not face-aware); the
    palette's look (vignette, grain, softness, tint) finishes the whole image."""
    work, edits, outlines = image, [], []
    if boxes and expression > 0:
        from moodshift.style.editing.expression import edit_expressions
        try:
            work, edits, outlines = edit_expressions(image, boxes, mix, expression)
        except ModelMissingError as exc:
            edits = [FaceEdit(b, False, mix, expression, f"expression editing unavailable ({exc})")
                     for b in boxes]
    elif boxes:
        edits = [FaceEdit(b, False, mix, 0.0, "expression kept (--expression 0 or auto)")
                 for b in boxes]
    styled = stylize_fn(work)
    if strength <= 0:
        return styled, edits, None
    look = mean_look([(palette[e].look, w) for e, w in mix.items()])  # type: ignore[index]
    if not boxes or regions.uniform:
        return apply_look(styled, look), edits, None
    if len(outlines) != len(boxes):
        outlines = face_outlines(work, boxes)
    composed = compose_regions(work, outlines, mix, palette, strength, regions, styled)
    return apply_look(composed, look), edits, regions.to_json()


def compose_regions(work: np.ndarray, outlines: list[np.ndarray], mix: dict[str, float],
                    palette: object, strength: float, regions: RegionStrengths,
                    styled: np.ndarray) -> np.ndarray:
    """The face-aware blend, before the look: ``styled`` over the graded ``work`` by region
    (faces from their mesh ``outlines``), each region at its strength."""
    weights = region_weights(work, outlines, regions)
    return compose(graded_photo(work, mix, palette, strength), styled, weights)
