"""Restyle a photo to express an emotion, following the emotion palette (see palette.toml).

``stylize_image`` runs the palette entry's engine at the photo's full resolution, then optional
colour preservation, the entry's colour grade, and finally the strength blend (so strength 0
returns the photo unchanged). An emotion blend ``{"happy": 0.7, "surprise": 0.3}`` mixes the
entries' style vectors (or multistyle26 weights when every entry uses that engine) and averages
their strength and grade with the same weights.
"""

from __future__ import annotations

import math
from typing import Mapping

import cv2
import numpy as np

from moodshift.emotions import EmotionMix
from moodshift.errors import UserError
from moodshift.style.bands import BAND_PIXELS, finish_in_bands
from moodshift.style.color import Grade, apply_grade, blend, finish
from moodshift.style.color import preserve_color as keep_colour
from moodshift.style.engines.fast import (
    MIN_SIDE,
    prepare_arbitrary,
    style_vector,
    stylize_arbitrary,
    stylize_multistyle,
)
from moodshift.style.options import ENGINES
from moodshift.style.palette import (
    Palette,
    PaletteEntry,
    entry_style_image,
    load_palette,
    render_contact_sheet,
)
from moodshift.style.procedural import style_image_for

__all__ = ["ENGINES", "stylize_image", "emotion_mix", "Palette", "PaletteEntry", "load_palette",
           "default_palette",
           "render_contact_sheet", "style_image_for", "style_vector"]

_DEFAULT: Palette | None = None


def default_palette() -> Palette:
    """The shipped palette, read once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_palette()
    return _DEFAULT


def emotion_mix(emotion: str | Mapping[str, float] | EmotionMix) -> dict[str, float]:
    """Canonical emotion -> weight (summing to 1) from a name, a {name: weight} blend or a mix."""
    return EmotionMix.of(emotion).as_dict()


def working_side(shape: tuple[int, int], max_pixels: int | None) -> int | None:
    """The longer side that keeps an image of this shape within max_pixels (None: no cap)."""
    h, w = shape
    if max_pixels is None or h * w <= max_pixels:
        return None
    return max(MIN_SIDE, int(max(h, w) * math.sqrt(max_pixels / (h * w))))


def prepare_engine(shape: tuple[int, int], emotions: list[str], palette: Palette | None = None,
                   style_image: np.ndarray | None = None, engine: str = "fast",
                   max_pixels: int | None = None) -> None:
    """Let the engine get ready for an image of this shape while the caller does other work
    (the fast engine compiles its transformer in a background thread); emotions: the ones the
    image may be styled for. Optional: stylize_image gives the same picture without it."""
    if engine != "fast":
        return
    palette = palette if palette is not None else default_palette()
    if style_image is None and all(palette[e].engine == "multistyle26" for e in emotions):
        return
    prepare_arbitrary(shape, working_side(shape, max_pixels))


def _mean_grade(mix: dict[str, float], entries: dict[str, PaletteEntry]) -> Grade:
    fields = ("brightness", "contrast", "saturation", "warmth")
    return Grade(**{f: sum(w * getattr(entries[e].grade, f) for e, w in mix.items())
                    for f in fields})


def stylize_image(image: np.ndarray, emotion: str | Mapping[str, float] | EmotionMix,
                  palette: Palette | None = None, strength: float | None = None,
                  preserve_color: bool | None = None, style_image: np.ndarray | None = None,
                  work_side: int | None = None, engine: str = "fast",
                  engine_options: Mapping[str, object] | None = None,
                  max_pixels: int | None = None) -> np.ndarray:
    """Restyle an RGB uint8 image for an emotion (or blend); same size as the input.

    strength / preserve_color override the palette's; style_image replaces the palette's style
    source (and forces the arbitrary engine). The networks run at full resolution unless
    work_side caps the longer side they see (faster, softer; the result is upscaled).
    engine picks how the stylised image is made: "fast" (pretrained feed-forward networks),
    "optimize" (Gatys optimisation, style/engines/optimize.py) or "trained" (moodshift-trained Johnson
    networks, style/engines/trained.py); engine_options are that engine's settings (steps, size...).
    max_pixels caps how many pixels the fast and trained networks work on (the working size:
    a larger image is styled at that size and scaled back up, then finished at full size);
    None: the network sees every pixel. Memory stays bounded either way (tiles and bands).
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise UserError(f"expected an RGB uint8 image (H, W, 3), got {img.dtype} {img.shape}")
    palette = palette if palette is not None else default_palette()
    mix = emotion_mix(emotion)
    entries = {e: palette[e] for e in mix}
    s = strength if strength is not None else sum(w * entries[e].strength for e, w in mix.items())
    if not 0.0 <= s <= 1.0:
        raise UserError(f"strength must be between 0 and 1, got {s:g}")
    keep = (preserve_color if preserve_color is not None
            else sum(w for e, w in mix.items() if entries[e].preserve_color) >= 0.5)
    if s <= 0.0:
        return img.copy()  # nothing to blend in: skip the network

    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}; valid: {', '.join(ENGINES)}")
    options = dict(engine_options or {})
    cap = working_side(img.shape[:2], max_pixels)
    if cap is not None:
        work_side = cap if work_side is None else min(work_side, cap)
        if engine == "trained":
            options["size"] = min(int(options.get("size") or cap), cap)
    if engine == "optimize":
        from moodshift.style.engines.optimize import stylize_optimize
        styles = ([(style_image, 1.0)] if style_image is not None
                  else [(entry_style_image(entries[e]), w) for e, w in mix.items()])
        out = stylize_optimize(img, styles, options)
    elif engine == "trained":
        if style_image is not None:  # a trained network knows only the style it learnt
            raise UserError("--style-image does not apply to --engine trained: train a network "
                            "for that painting with `moodshift train style --style IMG`")
        from moodshift.style.engines.trained import stylize_trained
        out = stylize_trained(img, mix, entries, options)
    elif style_image is None and all(entries[e].engine == "multistyle26" for e in mix):
        weights = sum(w * np.asarray(entries[e].weights, np.float32) for e, w in mix.items())
        out = stylize_multistyle(img, np.asarray(weights, np.float32), work_side=work_side)
    else:
        if style_image is not None:
            vec = style_vector(style_image)
        else:  # Magenta style vectors interpolate meaningfully, so blends mix them
            vec = sum(w * style_vector(entry_style_image(entries[e])) for e, w in mix.items())
        out = stylize_arbitrary(img, np.asarray(vec, np.float32), work_side=work_side)

    texture = sum(w * entries[e].texture for e, w in mix.items())
    if texture < 1.0:  # fewer strokes, the same grade: uint8 in, uint8 out (no float copy)
        out = cv2.addWeighted(img, 1.0 - texture, out, texture, 0.0)
    grade = _mean_grade(mix, entries)
    anchored = sum(w for e, w in mix.items() if entries[e].tone == "photo") >= 0.5
    if img.shape[0] * img.shape[1] > BAND_PIXELS:  # bounded memory: no full-size float copies
        return finish_in_bands(img, out, grade, s, anchored, keep)
    if keep:  # keep the photo's chroma: only the luminance part of the grade applies
        lum_grade = Grade(brightness=grade.brightness, contrast=grade.contrast)
        out = keep_colour(img, apply_grade(out, lum_grade, img if anchored else None))
        return blend(img, out, s)
    return finish(img, out, grade, s, anchored)
