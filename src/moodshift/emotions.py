"""The seven expression classes, their affect coordinates and the names users may type for them."""

from __future__ import annotations

from dataclasses import dataclass

from moodshift.errors import UserError

# Canonical order used by every probability vector in moodshift (FER2013's label order, minus its
# integer codes): index i of a probability array always means EMOTIONS[i].
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@dataclass(frozen=True)
class VAD:
    """Valence (pleasure), arousal and dominance, each in [-1, 1]."""

    valence: float
    arousal: float
    dominance: float

    def to_json(self) -> dict[str, float]:
        return {"valence": round(self.valence, 4), "arousal": round(self.arousal, 4),
                "dominance": round(self.dominance, 4)}

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.valence, self.arousal, self.dominance)


# Pleasure-arousal-dominance ratings of emotion terms from Russell & Mehrabian (1977),
# "Evidence for a three-factor theory of emotions", J. Res. Pers. 11:273-294 (terms: angry,
# disgusted, afraid, happy, sad, surprised); neutral is the origin by definition.
EMOTION_VAD: dict[str, VAD] = {
    "angry": VAD(-0.51, 0.59, 0.25),
    "disgust": VAD(-0.60, 0.35, 0.11),
    "fear": VAD(-0.64, 0.60, -0.43),
    "happy": VAD(0.81, 0.51, 0.46),
    "sad": VAD(-0.63, -0.27, -0.33),
    "surprise": VAD(0.40, 0.67, -0.13),
    "neutral": VAD(0.0, 0.0, 0.0),
}

SYNONYMS: dict[str, str] = {
    "anger": "angry", "mad": "angry", "furious": "angry", "rage": "angry",
    "disgusted": "disgust", "revulsion": "disgust",
    "fearful": "fear", "afraid": "fear", "scared": "fear", "fright": "fear",
    "happiness": "happy", "joy": "happy", "joyful": "happy",
    "sadness": "sad", "sorrow": "sad", "unhappy": "sad",
    "surprised": "surprise", "astonished": "surprise",
    "calm": "neutral", "none": "neutral",
}


def canonical_emotion(name: str) -> str | None:
    """Return the canonical emotion for a name or common synonym, or None if unknown."""
    key = name.strip().lower()
    if key in EMOTIONS:
        return key
    return SYNONYMS.get(key)


def parse_emotion(name: str) -> str:
    """Like canonical_emotion, but raise a UserError listing the valid names."""
    found = canonical_emotion(name)
    if found is None:
        raise UserError(f"unknown emotion {name!r}: choose one of {', '.join(EMOTIONS)}")
    return found


def nearest_emotion(vad: VAD) -> str:
    """The emotion whose coordinates lie closest (Euclidean) to a measured mood."""
    def dist(e: str) -> float:
        c = EMOTION_VAD[e]
        return sum((a - b) ** 2 for a, b in zip(c.as_tuple(), vad.as_tuple()))
    return min(EMOTIONS, key=dist)
