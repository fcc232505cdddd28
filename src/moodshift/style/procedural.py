"""moodshift's own default style images, painted procedurally from an emotion's VAD coordinates.

Palette (colour-emotion research):
* Lightness and chroma invert Valdez & Mehrabian (1994): with P = .69B + .22S and A = -.31B + .60S
  we solve for the standardised brightness B and saturation S that give the target valence
  (pleasure) and arousal, so pleasant styles are light and arousing ones saturated. Wilms & Oberfeld
  (2018, Psychol. Res. 82:896) likewise found arousal rising with saturation and brightness, and
  valence with brightness. The finished image is corrected to exactly that mean L* and chroma.
* Hue: kernel-weighted circular mean over colour-emotion anchor points in VAD space: yellow-orange
  for pleasant-excited (joy: yellow, Jonauskaite et al. 2020, Psychol. Sci. 31:1245), blue-green
  for pleasant-calm and blue for unpleasant-calm (Valdez & Mehrabian's most pleasant hues; sadness:
  blue/grey), red for unpleasant-aroused-dominant (anger), violet for unpleasant-aroused-submissive
  (fear: dark purple/black), green-yellow for disgust (V&M's least pleasant hue), magenta for
  surprise, warm grey at the origin. Arousal widens the hue and lightness spread (clashing
  accents, more contrast).

Strokes: low arousal gives few long, wide, smooth strokes that follow a slowly varying flow
field, then a soft blur; high arousal gives many short, thin, zig-zag strokes and grain.
Dominance thickens strokes; positive valence leaves more of the light background open.

Everything is drawn from one seeded numpy Generator, so images are deterministic. Results are
cached in memory and as PNG under ``cache_dir()/styles`` (bump VERSION when the look changes).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from moodshift.emotions import EMOTION_VAD, VAD, parse_emotion
from moodshift.errors import UserError
from moodshift.models.store import cache_dir

VERSION = 1
DEFAULT_SIZE = 384

# (valence, arousal, dominance, CIELAB hue angle in degrees); see module doc for sources.
_HUE_ANCHORS: tuple[tuple[float, float, float, float], ...] = (
    (0.8, 0.5, 0.4, 75.0),     # joy: warm yellow-orange
    (0.6, -0.5, 0.2, 175.0),   # contentment, calm: blue-green
    (-0.5, 0.6, 0.3, 35.0),    # anger: red
    (-0.6, 0.6, -0.4, 305.0),  # fear: violet
    (-0.6, 0.35, 0.1, 105.0),  # disgust: green-yellow / olive
    (-0.6, -0.3, -0.3, 255.0),  # sadness: blue
    (0.4, 0.7, -0.1, 340.0),   # surprise: magenta
    (0.0, 0.0, 0.0, 70.0),     # no emotion: muted warm grey (beige), chroma stays low
)
_HUE_SIGMA = 0.12  # narrow: neighbouring anchors (anger/disgust) must not average to mud
_VM = np.array([[0.69, 0.22], [-0.31, 0.60]])  # Valdez & Mehrabian rows P and A over (B, S)
_AMPLIFY = 1.3  # styles are caricatures: push a little past the coordinates
_MEMORY: dict[tuple[str, int, int], np.ndarray] = {}


@dataclass(frozen=True)
class StyleRecipe:
    """The parameters one VAD point maps to (exposed for tests, docs and the contact sheet)."""

    lightness: float   # target mean L*
    chroma: float      # target mean C*ab
    hue: float         # base CIELAB hue angle (deg)
    hue_spread: float  # deg
    light_spread: float
    strokes: int
    length: float      # px at DEFAULT_SIZE
    width: float       # px at DEFAULT_SIZE
    jag: float         # radians of zig-zag per segment
    blur: float        # Gaussian sigma, px
    grain: float       # noise SD in 8-bit units


def _unit(x: float) -> float:
    return float(np.clip((x + 1.0) / 2.0, 0.0, 1.0))


def recipe(vad: VAD) -> StyleRecipe:
    """Map a VAD point to palette and stroke parameters."""
    b, s = np.linalg.solve(_VM, [vad.valence, vad.arousal]) * _AMPLIFY
    b, s = float(np.clip(b, -2.0, 2.0)), float(np.clip(s, -2.0, 2.0))
    anchors = np.array(_HUE_ANCHORS)
    d2 = ((anchors[:, :3] - np.array(vad.as_tuple())) ** 2).sum(axis=1)
    w = np.exp(-(d2 - d2.min()) / (2 * _HUE_SIGMA ** 2))  # nearest anchor always counts
    ang = np.radians(anchors[:, 3])
    hue = float(np.degrees(np.arctan2((w * np.sin(ang)).sum(), (w * np.cos(ang)).sum())) % 360)
    a, d = _unit(vad.arousal), _unit(vad.dominance)
    return StyleRecipe(
        lightness=float(np.clip(52.0 + 18.0 * b, 15.0, 88.0)),
        chroma=float(np.clip(18.0 + 18.0 * s, 6.0, 70.0)),
        hue=hue,
        hue_spread=12.0 + 70.0 * a ** 2,
        light_spread=8.0 + 26.0 * a,
        strokes=int((90 + 1500 * a ** 2) * (1.0 - 0.3 * max(vad.valence, 0.0))),
        length=14.0 + 170.0 * (1.0 - a) ** 1.5,
        width=(1.5 + 12.0 * (1.0 - a) ** 1.5) * (0.7 + 0.6 * d),
        jag=1.3 * a ** 2,
        blur=1.6 * (1.0 - a) ** 2,
        grain=7.0 * a ** 2,
    )


def _lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32).reshape(-1, 1, 3), cv2.COLOR_Lab2RGB)
    return np.clip(rgb.reshape(lab.shape) * 255.0, 0, 255)


def _colours(r: StyleRecipe, n: int, rng: np.random.Generator) -> np.ndarray:
    """n stroke colours (RGB float) around the base hue; arousal adds complementary accents."""
    hue = r.hue + rng.normal(0.0, r.hue_spread / 2.0, n)
    accent = rng.random(n) < min(0.35, r.hue_spread / 200.0)
    hue = np.where(accent, hue + 180.0, hue)
    light = np.clip(r.lightness + rng.normal(0.0, r.light_spread, n), 3.0, 97.0)
    chroma = np.clip(r.chroma * rng.uniform(0.6, 1.4, n), 0.0, 90.0)
    h = np.radians(hue)
    return _lab_to_rgb(np.stack([light, chroma * np.cos(h), chroma * np.sin(h)], axis=1))


def _flow(size: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth angle field (radians) from a few random low-frequency waves."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    field = np.zeros((size, size), np.float32)
    for _ in range(4):
        fx, fy = rng.uniform(0.5, 2.5, 2)
        phase = rng.uniform(0, 2 * np.pi)
        field += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * (fx * xx + fy * yy) + phase)
    return field * 1.2 + rng.uniform(0, np.pi)


def _match_stats(rgb: np.ndarray, lightness: float, chroma: float) -> np.ndarray:
    """Shift mean L* and scale chroma so the image has exactly the recipe's palette statistics."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab[..., 0] = np.clip(lab[..., 0] + (lightness - lab[..., 0].mean()), 0.0, 100.0)
    mean_c = float(np.hypot(lab[..., 1], lab[..., 2]).mean())
    lab[..., 1:] *= float(np.clip(chroma / max(mean_c, 1e-3), 0.0, 4.0))
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def generate_style(vad: VAD, size: int = DEFAULT_SIZE, seed: int = 0) -> np.ndarray:
    """Paint a size x size RGB uint8 style image for a VAD point (deterministic in seed)."""
    if not 64 <= size <= 2048:
        raise ValueError(f"style size must be 64-2048 px, got {size}")
    r, rng, k = recipe(vad), np.random.default_rng(seed), size / DEFAULT_SIZE
    # background: the base colour, lighter for positive valence, with soft low-frequency shading
    shade = _flow(size, rng)
    bg_l = r.lightness + 10.0 * vad.valence + 0.3 * r.light_spread * np.sin(shade)
    h0 = np.radians(r.hue)
    bg = np.stack([np.clip(bg_l, 2, 98), np.full_like(bg_l, r.chroma * 0.8 * np.cos(h0)),
                   np.full_like(bg_l, r.chroma * 0.8 * np.sin(h0))], axis=-1)
    canvas = np.ascontiguousarray(_lab_to_rgb(bg).astype(np.uint8))

    field = _flow(size, rng)
    colours = _colours(r, r.strokes, rng)
    steps = max(2, int(r.length / (3.0 + 12.0 * r.jag)))  # jagged strokes: few straight legs
    seg = r.length * k / steps
    for i in range(r.strokes):
        x, y = rng.uniform(-0.05, 1.05, 2) * size
        pts = [(x, y)]
        sign = 1.0 if rng.random() < 0.5 else -1.0
        for _ in range(steps):  # follow the field; high arousal zig-zags around it
            theta = field[int(np.clip(y, 0, size - 1)), int(np.clip(x, 0, size - 1))]
            theta += sign * r.jag + rng.normal(0.0, 0.05 + 0.3 * r.jag)
            sign = -sign
            x, y = x + seg * np.cos(theta), y + seg * np.sin(theta)
            pts.append((x, y))
        width = max(1, int(round(r.width * k * rng.uniform(0.6, 1.3))))
        poly = np.round(np.array(pts) * 16).astype(np.int32).reshape(-1, 1, 2)  # 4 fractional bits
        cv2.polylines(canvas, [poly], False, tuple(float(c) for c in colours[i]), width,
                      cv2.LINE_AA, shift=4)

    out = canvas.astype(np.float32)
    if r.blur > 0.05:
        out = cv2.GaussianBlur(out, (0, 0), r.blur * k)
    if r.grain > 0.05:
        out += rng.normal(0.0, r.grain, out.shape).astype(np.float32)
    return _match_stats(np.clip(out, 0, 255), r.lightness, r.chroma)


def style_image_for(emotion: str, size: int = DEFAULT_SIZE, seed: int = 0) -> np.ndarray:
    """The default style image of an emotion (cached in memory and under cache_dir()/styles)."""
    name = parse_emotion(emotion)
    key = (name, size, seed)
    if key not in _MEMORY:
        from moodshift.imageio import load_image, save_image

        path = cache_dir() / "styles" / f"{name}-{size}-s{seed}-v{VERSION}.png"
        img: np.ndarray | None = None
        if path.exists():
            try:
                img = load_image(path)
            except (UserError, OSError):  # a damaged cache file is simply regenerated
                img = None
        if img is None or img.shape != (size, size, 3):
            img = generate_style(EMOTION_VAD[name], size, seed + zlib.crc32(name.encode()))
            try:
                save_image(img, path)
            except (UserError, OSError):  # read-only cache: keep the in-memory copy only
                pass
        _MEMORY[key] = img
    return _MEMORY[key].copy()
