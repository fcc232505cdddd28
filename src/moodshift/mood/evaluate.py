"""``moodshift eval mood``: agreement of a mood model with mean human ratings of a folder."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from moodshift.mood.base import MoodModel
from moodshift.mood.metrics import (
    AxisAgreement,
    EmotionAgreement,
    axis_agreement,
    emotion_agreement,
)
from moodshift.mood.ratings import read_rated_folder


@dataclass
class MoodEvaluation:
    data: Path
    layout: str
    model: str
    calibration: str | None      # the data set whose scale map was used; None: average/none
    n: int
    valence: AxisAgreement
    arousal: AxisAgreement
    emotions: EmotionAgreement | None
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {"data": str(self.data), "layout": self.layout, "model": self.model,
                "calibration": self.calibration, "n": self.n,
                "valence": self.valence.to_json(), "arousal": self.arousal.to_json(),
                "emotions": self.emotions.to_json() if self.emotions else None,
                "seconds": round(self.seconds, 2)}

    def format_text(self) -> str:
        lines = [f"{self.data}: {self.n} images ({self.layout} layout), model {self.model}"]
        for name, a in (("valence", self.valence), ("arousal", self.arousal)):
            lines.append(f"  {name:8} Pearson r {a.pearson:+.3f}  Spearman r {a.spearman:+.3f}  "
                         f"MAE {a.mae:.3f}")
        if self.emotions:
            e = self.emotions
            lines.append(f"  emotions mean KL {e.mean_kl:.3f}  top-1 {e.top1:.1%} "
                         f"(most common modal emotion alone: {e.majority_top1:.1%})")
        elif self.layout == "emotion6":
            lines.append("  emotions: this model has no emotion head")
        return "\n".join(lines)


def evaluate_mood(data: str | Path, model: str | MoodModel = "default",
                  progress: Callable[[int, int], None] | None = None) -> MoodEvaluation:
    """Measure every rated image of ``data`` with the model (a name, a path or a loaded model)
    and compare with the ratings. Human-rated models map their predictions to the folder's
    rating layout when they were trained on it (this changes MAE, not the correlations)."""
    from moodshift.imageio import load_image
    from moodshift.mood import load_mood_model

    started = time.perf_counter()
    rated = read_rated_folder(data)
    if isinstance(model, str):
        model = load_mood_model(model)
    heads = getattr(model, "heads", None)
    calibration = None
    va, probs = [], []
    for i, path in enumerate(rated.paths):
        image = load_image(path)
        if heads is not None:
            x, _ = model.features(image)
            v, a, p = heads.predict(x[None], dataset=rated.layout.name)
            va.append((float(v[0]), float(a[0])))
            probs.append(None if p is None else p[0])
        else:
            mood = model.measure(image)
            va.append((mood.valence, mood.arousal))
            probs.append(None)
        if progress:
            progress(i + 1, len(rated))
    if heads is not None and rated.layout.name in heads.config["calibration"]["valence"]["mean"]:
        calibration = rated.layout.name
    pred = np.asarray(va)
    emotions = None
    if rated.emotions is not None and all(p is not None for p in probs):
        emotions = emotion_agreement(np.stack(probs), rated.emotions)
    return MoodEvaluation(Path(data), rated.layout.name, model.name, calibration, len(rated),
                          axis_agreement(pred[:, 0], rated.valence),
                          axis_agreement(pred[:, 1], rated.arousal), emotions,
                          time.perf_counter() - started)
