"""What every mood model returns, and the colour model behind the common interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from moodshift.emotions import EMOTIONS, VAD


@dataclass(frozen=True)
class Mood(VAD):
    """Valence, arousal, dominance in [-1, 1] (a VAD, usable wherever one is), plus the whole
    image's emotion distribution when the model has one (EMOTIONS order) and the model's name."""

    emotions: tuple[float, ...] | None = None
    model: str = "colour"

    def emotion_probs(self) -> dict[str, float] | None:
        if self.emotions is None:
            return None
        return dict(zip(EMOTIONS, self.emotions))

    def top_emotion(self) -> str | None:
        if self.emotions is None:
            return None
        return EMOTIONS[int(np.argmax(self.emotions))]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = dict(VAD.to_json(self))
        probs = self.emotion_probs()
        if probs is not None:
            out["emotions"] = {k: round(v, 4) for k, v in probs.items()}
        out["model"] = self.model
        return out


class MoodModel(Protocol):
    name: str

    def measure(self, image: np.ndarray) -> Mood: ...

    def measure_batch(self, images: np.ndarray | list[np.ndarray]) -> list[Mood]: ...


class ColourMoodModel:
    """Colour affect (Valdez & Mehrabian 1994; see moodshift.mood.colour): no emotions."""

    name = "colour"

    def measure(self, image: np.ndarray) -> Mood:
        from moodshift.mood.colour import measure_mood

        vad = measure_mood(image)
        return Mood(vad.valence, vad.arousal, vad.dominance, None, self.name)

    def measure_batch(self, images: np.ndarray | list[np.ndarray]) -> list[Mood]:
        return [self.measure(img) for img in images]
