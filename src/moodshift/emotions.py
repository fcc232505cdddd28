"""The seven expression classes, their affect coordinates and the names users may type for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

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


def nearest_emotion(vad: VAD | tuple[float, ...]) -> str:
    """The emotion whose coordinates lie closest (Euclidean) to a measured mood; a tuple of
    fewer than three values (valence, arousal) is compared over those dimensions only."""
    point = vad.as_tuple() if isinstance(vad, VAD) else tuple(vad)

    def dist(e: str) -> float:
        return sum((a - b) ** 2 for a, b in zip(EMOTION_VAD[e].as_tuple()[:len(point)], point))
    return min(EMOTIONS, key=dist)


@dataclass(frozen=True)
class EmotionMix:
    """What a picture should express: ``auto`` (the photo's own emotion, decided later), one
    emotion, or a blend of emotions with weights summing to 1. Parsed once from what a user
    writes ("auto", "sad", "joy", "happy:0.7,sad:0.3") and passed around as this object."""

    weights: tuple[tuple[str, float], ...] = ()   # canonical emotion -> weight; () is auto

    @classmethod
    def parse(cls, text: str, lenient: bool = False) -> EmotionMix:
        """From the written form. Strict (the default) refuses an unknown emotion or a bad
        weight with a UserError; lenient skips such parts (for labels read back from files)."""
        text = text.strip()
        if text.lower() == "auto":
            return cls()
        if ":" not in text and "," not in text:
            if lenient and canonical_emotion(text) is None:
                return cls()
            return cls(((parse_emotion(text), 1.0),))
        raw: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, weight = part.partition(":")
            try:
                value = float(weight) if weight else 1.0
            except ValueError:
                if lenient:
                    continue
                raise UserError(f"emotion blend {text!r}: weight {weight!r} is not a number") \
                    from None
            if lenient and (canonical_emotion(name) is None or not value >= 0):
                continue
            raw[name] = raw.get(name, 0.0) + value
        if lenient and not sum(raw.values()) > 0:
            return cls()
        return cls.of(raw)

    @classmethod
    def of(cls, emotion: str | Mapping[str, float] | EmotionMix) -> EmotionMix:
        """From a name, a {name: weight} blend (checked, normalised) or a mix; not auto."""
        if isinstance(emotion, EmotionMix):
            return emotion
        if isinstance(emotion, str):
            return cls(((parse_emotion(emotion), 1.0),))
        mix: dict[str, float] = {}
        for name, weight in emotion.items():
            if (not isinstance(weight, (int, float)) or isinstance(weight, bool)
                    or not 0 <= weight < float("inf")):  # NaN and infinity too
                raise UserError(f"emotion weight for {name!r} must be a non-negative number")
            key = parse_emotion(name)
            mix[key] = mix.get(key, 0.0) + float(weight)
        total = sum(mix.values())
        if total <= 0:
            raise UserError("an emotion blend needs at least one positive weight")
        return cls(tuple((k, v / total) for k, v in mix.items() if v > 0))

    @property
    def is_auto(self) -> bool:
        return not self.weights

    def as_dict(self) -> dict[str, float]:
        return dict(self.weights)

    def resolve(self, detected: str) -> EmotionMix:
        """This mix, or for auto the detected emotion."""
        return EmotionMix.of(detected) if self.is_auto else self

    @property
    def heaviest(self) -> str | None:
        """The emotion with the largest weight (the first of equals); None for auto."""
        return max(self.weights, key=lambda kv: kv[1])[0] if self.weights else None

    @property
    def label(self) -> str:
        """"auto", the emotion's name, or the blend heaviest first: "happy:0.70,sad:0.30"."""
        if self.is_auto:
            return "auto"
        if len(self.weights) == 1:
            return self.weights[0][0]
        return ",".join(f"{k}:{v:.2f}" for k, v in sorted(self.weights, key=lambda kv: -kv[1]))

    @property
    def vad(self) -> VAD:
        """The target's coordinates; a blend's is the weighted mean of its emotions'."""
        if self.is_auto:
            raise ValueError("auto has no coordinates until it is resolved")
        return VAD(*(sum(w * getattr(EMOTION_VAD[e], f) for e, w in self.weights)
                     for f in ("valence", "arousal", "dominance")))
