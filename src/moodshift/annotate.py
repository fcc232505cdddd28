"""Draw analysis results onto a photo: a box per face with its expression, age and gender."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from moodshift.analyze import Analysis
from moodshift.drawing import default_font

# One colour per emotion so a glance at the picture tells the expressions apart.
EMOTION_COLOURS: dict[str, tuple[int, int, int]] = {
    "angry": (220, 40, 40), "disgust": (120, 160, 30), "fear": (150, 60, 200),
    "happy": (250, 200, 20), "sad": (40, 110, 220), "surprise": (250, 130, 30),
    "neutral": (200, 200, 200),
}


def annotate(image: np.ndarray, analysis: Analysis) -> np.ndarray:
    """A copy of the image with labelled face boxes and the image mood in the top-left corner."""
    pil = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(pil)
    scale = max(pil.size) / 800
    font = default_font(max(12, round(16 * scale)))
    width = max(2, round(3 * scale))
    for face in analysis.faces:
        x, y, w, h = face.box
        emotion = face.top_emotion
        colour = EMOTION_COLOURS[emotion]
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=width)
        label = f"{emotion} {face.expression[emotion]:.0%}"
        if face.age is not None:
            label += f" · {face.age:.0f}y"
        if face.gender:
            label += f" {face.gender[0].upper()}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        text_h = bottom - top + 6
        ty = y - text_h if y - text_h >= 0 else y + h
        draw.rectangle([x, ty, x + right - left + 8, ty + text_h], fill=colour)
        draw.text((x + 4, ty + 3 - top), label, fill=(0, 0, 0), font=font)
    m = analysis.mood
    summary = (f"mood V {m.valence:+.2f} A {m.arousal:+.2f} D {m.dominance:+.2f}"
               f" · {analysis.dominant_emotion}")
    left, top, right, bottom = draw.textbbox((0, 0), summary, font=font)
    draw.rectangle([0, 0, right - left + 10, bottom - top + 8], fill=(0, 0, 0))
    draw.text((5, 4 - top), summary, fill=(255, 255, 255), font=font)
    return np.asarray(pil)
