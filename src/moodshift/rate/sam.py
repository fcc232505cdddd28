"""Self-Assessment Manikin pictograms, drawn by moodshift as SVG.

The figures follow the idea of Bradley & Lang (1994), "Measuring emotion: the Self-Assessment
Manikin and the semantic differential", J. Behav. Ther. Exp. Psychiatry 25(1):49-59: one
manikin per scale point, changing along one dimension only:

- valence: the mouth goes from a frown (1) to a smile (9), the brows from worried to relaxed;
- arousal: eyes closed and a still body (1) up to wide eyes, an exploding heart and shaking
  lines around the body (9);
- dominance: a small figure (1, controlled) up to one that fills its frame (9, in control).

The original SAM prints five figures with blank points between them; here every one of the nine
points gets its own figure, interpolated, so each is a button a rater can click.
"""

from __future__ import annotations

import math

DIMENSIONS: tuple[str, ...] = ("valence", "arousal", "dominance")
LEVELS: tuple[int, ...] = tuple(range(1, 10))

# What each end of a scale means, shown beside the figures on the rating page.
ANCHORS: dict[str, tuple[str, str]] = {
    "valence": ("unhappy, annoyed", "happy, pleased"),
    "arousal": ("calm, sleepy", "excited, wide awake"),
    "dominance": ("controlled, small", "in control, big"),
}

_INK = "#222"
_SKIN = "#f2f2f2"
_ACCENT = "#555"


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _check(dimension: str, level: int) -> None:
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown SAM dimension {dimension!r}")
    if isinstance(level, bool) or level not in LEVELS:
        raise ValueError(f"SAM level must be 1..9, got {level!r}")


def _body() -> list[str]:
    """The manikin's trunk, arms and legs (shared by every scale)."""
    return [
        f'<path d="M42 47 Q29 70 33 96 L67 96 Q71 70 58 47 Z" fill="{_SKIN}"/>',
        '<path d="M40 56 L23 73 M60 56 L77 73 M43 96 L40 113 M57 96 L60 113" fill="none"/>',
    ]


def _head(mouth_bend: float = 0.0, brow_tilt: float = 0.0, eye_open: float = 1.0) -> list[str]:
    """Head with eyes, brows and mouth.

    mouth_bend > 0 smiles, < 0 frowns; brow_tilt > 0 raises the inner brow ends (worry);
    eye_open 0 draws closed eyes, 1 normal ones, larger values wide-open ones.
    """
    parts = [f'<circle cx="50" cy="28" r="17" fill="{_SKIN}"/>']
    for side in (-1, 1):
        ex = 50 + 6 * side
        if eye_open <= 0.05:
            parts.append(f'<path d="M{ex - 3} 25 Q{ex} 27.5 {ex + 3} 25" fill="none"/>')
        else:
            parts.append(f'<circle cx="{ex}" cy="25" r="{_fmt(1.2 + 1.4 * eye_open)}" '
                         f'fill="{_INK}" stroke="none"/>')
        inner, outer = 50 + 2 * side, 50 + 10 * side
        parts.append(f'<path d="M{outer} 19 L{inner} {_fmt(19 - 3 * brow_tilt)}" fill="none"/>')
    parts.append(f'<path d="M41 36 Q50 {_fmt(36 + 9 * mouth_bend)} 59 36" fill="none"/>')
    return parts


def _burst(cx: float, cy: float, radius: float, points: int = 9) -> str:
    """A star-shaped 'explosion' in the manikin's chest (the SAM arousal sign)."""
    coords = []
    for i in range(points * 2):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = math.pi * i / points - math.pi / 2
        coords.append(f"{_fmt(cx + r * math.cos(angle))},{_fmt(cy + r * math.sin(angle))}")
    return f'<polygon points="{" ".join(coords)}" fill="{_ACCENT}" stroke-width="1"/>'


def _shake_lines(count: int) -> list[str]:
    """Curved motion marks either side of the body, more of them for higher arousal."""
    parts = []
    for i in range(count):
        r = 36 + 5 * i
        for side in (-1, 1):
            x0 = 50 + side * r * math.cos(math.radians(30))
            y0 = 70 - r * math.sin(math.radians(30))
            y1 = 70 + r * math.sin(math.radians(30))
            sweep = 1 if side > 0 else 0
            parts.append(f'<path d="M{_fmt(x0)} {_fmt(y0)} A{r} {r} 0 0 {sweep} {_fmt(x0)} '
                         f'{_fmt(y1)}" fill="none" stroke-width="1.6"/>')
    return parts


def manikin_parts(dimension: str, level: int) -> list[str]:
    """The SVG elements of one manikin (without the enclosing <svg>)."""
    _check(dimension, level)
    if dimension == "valence":
        v = (level - 5) / 4.0  # -1 .. 1
        return _body() + _head(mouth_bend=v, brow_tilt=max(-v, 0.0))
    if dimension == "arousal":
        a = (level - 1) / 8.0  # 0 .. 1
        parts = _shake_lines(round(3 * a)) + _body() + _head(eye_open=0.0 if level == 1 else
                                                                 0.5 + 1.2 * a)
        if level > 1:
            parts.append(_burst(50, 72, 3 + 13 * a))
        return parts
    d = (level - 1) / 8.0  # 0 .. 1
    scale = 0.3 + 0.7 * d
    # Grow from the bottom centre so every figure stands on the frame's floor.
    inner = "".join(_body() + _head())
    return ['<rect x="3" y="3" width="94" height="113" fill="none" stroke-width="1" '
            'stroke-dasharray="3 3"/>',
            f'<g transform="translate(50 115) scale({scale:.3f}) translate(-50 -115)">{inner}</g>']


def manikin_svg(dimension: str, level: int, size: int = 64) -> str:
    """One SAM figure as a standalone SVG element, `size` pixels wide."""
    parts = manikin_parts(dimension, level)
    height = round(size * 120 / 100)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 120" width="{size}" '
            f'height="{height}" role="img" aria-label="{dimension} {level} of 9">'
            f'<title>{dimension} {level} of 9</title>'
            f'<g stroke="{_INK}" stroke-width="2.5" stroke-linecap="round" '
            f'stroke-linejoin="round">{"".join(parts)}</g></svg>')


def scale_svgs(dimension: str, size: int = 64) -> list[str]:
    """The nine figures of one scale, level 1 first."""
    return [manikin_svg(dimension, level, size) for level in LEVELS]
