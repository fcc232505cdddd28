"""Image mood: valence, arousal and dominance of a whole picture.

Two models live here:

* ``colour`` -- colour affect after Valdez & Mehrabian (1994): a rule set on lightness, chroma,
  hue, contrast and colourfulness. Deterministic and cheap; not calibrated against people.
* ``rated`` -- the human-rated model: features of an ImageNet EfficientNet-Lite plus the colour
  statistics, with small heads trained on OASIS and Emotion6 ratings (``moodshift train mood``).

The names below are what callers used when this was the single module ``moodshift.mood``.
"""

from functools import lru_cache

from moodshift.mood.base import ColourMoodModel, Mood, MoodModel
from moodshift.mood.colour import (
    CHROMA_FULL,
    HUE_ANCHORS,
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

MOOD_MODELS = ("auto", "colour", "default", "oasis-only", "emotion6-only")


def load_mood_model(name: str = "default", backend: str = "auto") -> MoodModel:
    """A mood model with ``measure(image) -> Mood``, loaded once per process.

    ``colour``: colour affect (Valdez & Mehrabian 1994), no emotions. ``default``: the
    human-rated model trained on OASIS and Emotion6; ``oasis-only`` / ``emotion6-only``: the
    same trained on one set (to judge what the default model helped tune). ``auto``: the
    default model when its EfficientNet-Lite backbone is pulled, else colour. A path loads
    heads written by ``moodshift train mood``."""
    return _load_cached(str(name), backend)


def check_mood_model(name: str) -> str:
    """``name`` if it names a mood model (see load_mood_model) or an existing heads file;
    otherwise a UserError listing the choices. Loads nothing."""
    from pathlib import Path

    from moodshift.errors import UserError

    if name in MOOD_MODELS or Path(name).exists():
        return name
    raise UserError(f"unknown mood model {name!r}: use one of {', '.join(MOOD_MODELS)} "
                    "or the path of heads written by `moodshift train mood`")


@lru_cache(maxsize=8)
def _load_cached(name: str, backend: str) -> MoodModel:
    from moodshift.errors import ModelMissingError

    if name == "colour":
        return ColourMoodModel()
    from moodshift.mood.rated import load_rated_model

    if name == "auto":
        try:
            return load_rated_model("default", backend)
        except ModelMissingError:
            return ColourMoodModel()
    return load_rated_model(name, backend)


__all__ = [
    "ColourMoodModel", "Mood", "MoodModel", "MOOD_MODELS", "check_mood_model", "load_mood_model",
    "HUE_ANCHORS", "CHROMA_FULL", "HUE_WEIGHT", "MAX_SIDE", "REF_CHROMA", "REF_COLOURFULNESS",
    "REF_CONTRAST", "REF_LIGHTNESS", "SQUASH", "Z_CLIP", "MoodReading", "measure_mood",
    "measure_mood_details",
]
