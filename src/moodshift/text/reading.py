"""The result of reading one text (no heavy imports: the generator and the CLI both use it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from moodshift.emotions import EMOTION_VAD, VAD

BACKENDS = ("auto", "embedding", "lexicon")


@dataclass
class TextReading:
    """Emotion, age group and gender read from one description."""

    text: str
    emotion: str                              # one of moodshift.emotions.EMOTIONS
    probabilities: dict[str, float]           # all 7 emotions, summing to 1
    age_group: str | None                     # child|teen|young_adult|middle_aged|elderly
    gender: str | None                        # female|male
    age: float | None                         # years, when the text states a number or decade
    confidence: float                         # probability of `emotion`
    backend: str                              # "embedding" | "lexicon"
    note: str | None = None
    cues: list[str] = field(default_factory=list)   # emotion words found, "not happy" -> sad

    def vad(self) -> VAD:
        """Probability-weighted valence/arousal/dominance (Russell & Mehrabian coordinates of
        the seven emotions): one way to turn a reading into generator or style parameters."""
        parts = [EMOTION_VAD[e] for e in self.probabilities]
        weights = list(self.probabilities.values())
        return VAD(*(sum(w * getattr(v, axis) for w, v in zip(weights, parts))
                     for axis in ("valence", "arousal", "dominance")))

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "emotion": self.emotion,
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
                "age_group": self.age_group, "gender": self.gender, "age": self.age,
                "confidence": round(self.confidence, 4), "backend": self.backend,
                "note": self.note, "vad": self.vad().to_json()}
