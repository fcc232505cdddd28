"""Image mood: valence, arousal and dominance of a whole picture.

Two models live here:

* ``colour`` -- colour affect after Valdez & Mehrabian (1994): a rule set on lightness, chroma,
  hue, contrast and colourfulness. Deterministic and cheap; not calibrated against people.
* ``rated`` -- the human-rated model: features of an ImageNet EfficientNet-Lite0 plus the colour
  statistics, with small heads trained on OASIS and Emotion6 ratings (``moodshift train mood``).

The names below are what callers used when this was the single module ``moodshift.mood``.
"""

from moodshift.mood.colour import (
    _HUE_ANCHORS,  # noqa: F401  (generate.affect_losses reads it)
    CHROMA_FULL,
    HUE_WEIGHT,
    MAX_SIDE,
    REF_CHROMA,
    REF_COLOURFULNESS,
    REF_CONTRAST,
    REF_LIGHTNESS,
    SQUASH,
    Z_CLIP,
    MoodReading,
    measure_mood,
    measure_mood_details,
)

__all__ = [
    "_HUE_ANCHORS", "CHROMA_FULL", "HUE_WEIGHT", "MAX_SIDE", "REF_CHROMA", "REF_COLOURFULNESS",
    "REF_CONTRAST", "REF_LIGHTNESS", "SQUASH", "Z_CLIP", "MoodReading", "measure_mood",
    "measure_mood_details",
]
