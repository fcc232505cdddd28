"""The emotion palette as data (TOML): style source, engine, strength, colour options per emotion.

The shipped defaults live in ``moodshift/data/palette.toml`` (its header documents the keys). A user
file with the same layout merges over them key by key (``[sad.grade]`` merges field by field).
Relative style paths are resolved against the folder of the file that names them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
from PIL import Image, ImageDraw

from moodshift.drawing import default_font
from moodshift.emotions import EMOTIONS, canonical_emotion
from moodshift.errors import InputFileError, UserError
from moodshift.style.color import Grade
from moodshift.style.engines.fast import NUM_STYLES, multistyle_weights
from moodshift.style.look import LIMITS as LOOK_LIMITS
from moodshift.style.look import LOOK_KEYS, Look

DEFAULT_PALETTE = Path(__file__).resolve().parent.parent / "data" / "palette.toml"
PROCEDURAL = "procedural"
ENGINES = ("arbitrary", "multistyle26")
ENTRY_KEYS = ("style", "engine", "strength", "texture", "preserve_color", "tone", "weights",
              "grade", "model", "look")
TONES = ("photo", "style")
GRADE_KEYS = ("brightness", "contrast", "saturation", "warmth")
# entry keys that are tables of their own, and the keys each may hold
SUBTABLE_KEYS = {"grade": GRADE_KEYS, "look": LOOK_KEYS}


@dataclass(frozen=True)
class PaletteEntry:
    """How one emotion restyles a photo."""

    emotion: str
    style: str                      # "procedural" or an absolute path to a painting
    engine: str                     # "arbitrary" | "multistyle26"
    strength: float
    preserve_color: bool
    grade: Grade
    weights: tuple[float, ...] | None = None  # normalised 26-style mix (multistyle26)
    tone: str = "photo"             # grade anchored to the photo's tones, or the style's
    model: str | None = None        # absolute path of a `train style` network (trained engine)
    look: Look = Look()             # vignette, grain, softness, tint (moodshift.style.look)
    texture: float = 1.0            # share of the engine's strokes under the grade (1: all)

    @property
    def is_procedural(self) -> bool:
        return self.style == PROCEDURAL

    def to_json(self) -> dict[str, object]:
        return {"emotion": self.emotion, "style": self.style, "engine": self.engine,
                "strength": self.strength, "texture": self.texture,
                "preserve_color": self.preserve_color,
                "tone": self.tone, "grade": vars(self.grade).copy(),
                "weights": list(self.weights) if self.weights else None,
                "model": self.model, "look": self.look.to_json()}


@dataclass(frozen=True)
class Palette:
    entries: Mapping[str, PaletteEntry]
    sources: tuple[Path, ...]       # the files merged, shipped defaults first

    def __getitem__(self, emotion: str) -> PaletteEntry:
        name = canonical_emotion(emotion)
        if name is None or name not in self.entries:
            raise UserError(f"unknown emotion {emotion!r}: choose one of {', '.join(EMOTIONS)}")
        return self.entries[name]

    def to_json(self) -> dict[str, object]:
        return {"sources": [str(p) for p in self.sources],
                "emotions": {e: self.entries[e].to_json() for e in EMOTIONS}}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputFileError(path, "no such palette file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"invalid TOML ({exc})") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read palette ({exc.strerror or exc})") from None


def _number(path: Path, where: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise UserError(f"{path}: {where} must be a number from {lo:g} to {hi:g}, got {value!r}")
    return float(value)


def _merge(base: dict[str, dict[str, Any]], path: Path, raw: dict[str, Any]) -> None:
    """Check one file's tables and merge them into `base` (emotion -> key -> (value, file))."""
    for table, entry in raw.items():
        emotion = canonical_emotion(table)
        if emotion is None:
            raise UserError(f"{path}: unknown emotion [{table}] (expected one of "
                            f"{', '.join(EMOTIONS)})")
        if not isinstance(entry, dict):
            raise UserError(f"{path}: {table} must be a table like [{table}], got {entry!r}")
        slot = base.setdefault(emotion, {})
        for key, value in entry.items():
            if key not in ENTRY_KEYS:
                raise UserError(f"{path}: [{table}] unknown key {key!r} (expected one of "
                                f"{', '.join(ENTRY_KEYS)})")
            if key in SUBTABLE_KEYS:   # [<emotion>.grade] / [<emotion>.look]
                if not isinstance(value, dict):
                    raise UserError(f"{path}: [{table}].{key} must be a table")
                for sub_key, sub_value in value.items():
                    if sub_key not in SUBTABLE_KEYS[key]:
                        raise UserError(f"{path}: [{table}.{key}] unknown key {sub_key!r} "
                                        f"(expected one of {', '.join(SUBTABLE_KEYS[key])})")
                    slot.setdefault(key, {})[sub_key] = (sub_value, path)
            else:
                slot[key] = (value, path)


def _resolve(folder: Path, value: str) -> Path:
    """A path written in a palette file, made absolute; os.path's versions, unlike Path's on
    Python 3.11, do not raise on a symlink loop or an unknown ~user (is_file() then says no)."""
    return Path(os.path.realpath(folder / os.path.expanduser(value)))


def _entry(emotion: str, slot: dict[str, Any]) -> PaletteEntry:
    def get(key: str, default: Any) -> tuple[Any, Path]:
        return slot.get(key, (default, DEFAULT_PALETTE))

    style, spath = get("style", PROCEDURAL)
    if not isinstance(style, str) or not style:
        raise UserError(f"{spath}: [{emotion}].style must be \"procedural\" or a file path")
    if style != PROCEDURAL:
        resolved = _resolve(spath.parent, style)
        if not resolved.is_file():
            raise UserError(f"{spath}: [{emotion}].style: no such image file {str(resolved)!r}")
        style = str(resolved)
    engine, epath = get("engine", "arbitrary")
    if engine not in ENGINES:
        raise UserError(f"{epath}: [{emotion}].engine must be one of {', '.join(ENGINES)}, "
                        f"got {engine!r}")
    value, vpath = get("strength", 1.0)
    strength = _number(vpath, f"[{emotion}].strength", value, 0.0, 1.0)
    value, xpath = get("texture", 1.0)
    texture = _number(xpath, f"[{emotion}].texture", value, 0.0, 1.0)
    keep, kpath = get("preserve_color", False)
    if not isinstance(keep, bool):
        raise UserError(f"{kpath}: [{emotion}].preserve_color must be true or false")
    tone, tpath = get("tone", "photo")
    if tone not in TONES:
        raise UserError(f"{tpath}: [{emotion}].tone must be one of {', '.join(TONES)}, "
                        f"got {tone!r}")
    grade_raw = slot.get("grade", {})
    limits = {"brightness": (0.2, 3.0), "contrast": (0.2, 3.0), "saturation": (0.0, 3.0),
              "warmth": (-1.0, 1.0)}
    grade = Grade(**{k: _number(p, f"[{emotion}.grade].{k}", v, *limits[k])
                     for k, (v, p) in grade_raw.items()})
    weights = None
    if "weights" in slot:
        value, wpath = slot["weights"]
        if isinstance(value, dict):
            try:
                value = {int(k): v for k, v in value.items()}
            except ValueError:
                raise UserError(f"{wpath}: [{emotion}].weights keys must be style numbers "
                                f"0-{NUM_STYLES - 1}") from None
        try:
            weights = tuple(float(x) for x in multistyle_weights(value))
        except (UserError, TypeError, ValueError) as exc:
            raise UserError(f"{wpath}: [{emotion}].weights: {exc}") from None
    if engine == "multistyle26" and weights is None:
        raise UserError(f"{epath}: [{emotion}] uses engine multistyle26 but sets no weights")
    model = None
    if "model" in slot:   # resolved like `style`; the trained engine checks the file itself
        value, mpath = slot["model"]
        if not isinstance(value, str) or not value:
            raise UserError(f"{mpath}: [{emotion}].model must be a path to a .onnx file from "
                            "`moodshift train style`")
        resolved = _resolve(mpath.parent, value)
        if not resolved.is_file():
            raise UserError(f"{mpath}: [{emotion}].model: no such model file {str(resolved)!r}")
        model = str(resolved)
    look = Look(**{k: _number(p, f"[{emotion}.look].{k}", v, *LOOK_LIMITS[k])
                   for k, (v, p) in slot.get("look", {}).items()})
    return PaletteEntry(emotion, style, engine, strength, keep, grade, weights, tone, model, look,
                        texture)


def load_palette(path: Path | str | None = None) -> Palette:
    """The shipped palette, with the user's file (if any) merged over it."""
    slots: dict[str, dict[str, Any]] = {}
    sources = [DEFAULT_PALETTE]
    _merge(slots, DEFAULT_PALETTE, _read_toml(DEFAULT_PALETTE))
    if path is not None:
        user = Path(path).expanduser()
        _merge(slots, user, _read_toml(user))
        sources.append(user)
    return Palette({e: _entry(e, slots.get(e, {})) for e in EMOTIONS}, tuple(sources))


def entry_style_image(entry: PaletteEntry) -> np.ndarray:
    """The style picture an entry uses: moodshift's procedural one or the named painting."""
    if entry.is_procedural:
        from moodshift.style.procedural import style_image_for
        return style_image_for(entry.emotion)
    from moodshift.imageio import load_image
    return load_image(entry.style)


# ---- contact sheet ---------------------------------------------------------------------------

def _fit(img: np.ndarray, side: int) -> Image.Image:
    pil = Image.fromarray(np.asarray(img, np.uint8))
    pil.thumbnail((side, side), Image.LANCZOS)
    return pil


def _square(img: np.ndarray, side: int) -> Image.Image:
    h, w = img.shape[:2]
    s = min(h, w)
    crop = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return Image.fromarray(np.ascontiguousarray(crop)).resize((side, side), Image.LANCZOS)


def render_contact_sheet(photo: np.ndarray, palette: Palette,
                         stylize_fn: Callable[[np.ndarray, str], np.ndarray],
                         tile: int = 256) -> np.ndarray:
    """Top row: each emotion's style; bottom row: the photo stylised for it; all labelled."""
    small = np.asarray(_fit(photo, tile))
    pad, label = 8, 22
    width = pad + len(EMOTIONS) * (tile + pad)
    sheet = Image.new("RGB", (width, pad + 2 * (label + tile + pad)), (245, 245, 245))
    draw, font = ImageDraw.Draw(sheet), default_font(14)
    for col, emotion in enumerate(EMOTIONS):
        entry = palette[emotion]
        x = pad + col * (tile + pad)
        if entry.engine == "multistyle26" and entry.weights is not None:
            top = Image.new("RGB", (tile, tile), (220, 220, 220))
            mix = sorted(enumerate(entry.weights), key=lambda t: -t[1])[:4]
            lines = ["multistyle26"] + [f"style {i}: {w:.2f}" for i, w in mix if w > 0]
            ImageDraw.Draw(top).multiline_text((10, 10), "\n".join(lines), fill="black", font=font)
            source = "multistyle26"
        else:
            top = _square(entry_style_image(entry), tile)
            source = PROCEDURAL if entry.is_procedural else Path(entry.style).name
        result = _fit(stylize_fn(small, emotion), tile)
        texture = f", texture {entry.texture:g}" if entry.texture < 1.0 else ""
        caption = f"{emotion} (strength {entry.strength:g}{texture})"
        for row, (img, text) in enumerate(((top, f"{emotion}: {source}"), (result, caption))):
            y = pad + row * (label + tile + pad)
            draw.text((x + 2, y + 3), text, fill="black", font=font)
            sheet.paste(img, (x + (tile - img.width) // 2, y + label + (tile - img.height) // 2))
    return np.asarray(sheet)
