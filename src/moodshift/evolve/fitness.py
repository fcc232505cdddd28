"""Scoring evolved images: the fitness model (batched) and, separately, the judge.

Fitness comes from moodshift's own expression classifier (the whole image is the face) or from
an image mood model (any image; the human-rated one by default, ``colour`` on request). The
judge that the report quotes is always a different model (fer or face-api), so "the classifier was fooled" and "another classifier agrees" stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from moodshift.emotions import EMOTION_VAD, EMOTIONS
from moodshift.errors import UserError
from moodshift.evolve.targets import Target
from moodshift.expression.base import whole_image_probs

FITNESS_MODELS = ("expression", "mood")
JUDGES = ("fer", "faceapi", "none")
# Rows: EMOTIONS; columns: valence, arousal, dominance (Russell & Mehrabian 1977).
VAD_TABLE = np.array([EMOTION_VAD[e].as_tuple() for e in EMOTIONS], dtype=np.float64)


@dataclass
class Evaluation:
    """What the fitness model saw in a batch of n images (fields not needed are None)."""

    probs: np.ndarray | None    # (n, 7) expression probabilities
    mood: np.ndarray | None     # (n, 3) valence, arousal, dominance (the mood model's)
    detail: np.ndarray | None   # (n,) mean absolute grey gradient at 32 px, 0..1 units


def closeness(points: np.ndarray, wanted: tuple[float, ...]) -> np.ndarray:
    """1 at the wanted coordinates, 0 at the far corner of the [-1, 1]^k cube (linear)."""
    k = len(wanted)
    dist = np.linalg.norm(points[:, :k] - np.asarray(wanted)[None], axis=1)
    return 1.0 - dist / (2.0 * np.sqrt(k))


DETAIL_SIDE = 32


def detail(images: np.ndarray) -> np.ndarray:
    """Mean absolute grey-level difference between neighbouring pixels at 32 x 32 (0 flat,
    ~0.3 white noise), so that the measure means the same at every --size."""
    grey = images.astype(np.float32).mean(axis=-1) / 255.0
    n, h, w = grey.shape
    if h % DETAIL_SIDE == 0 and w % DETAIL_SIDE == 0:  # area average by blocks
        grey = grey.reshape(n, DETAIL_SIDE, h // DETAIL_SIDE, DETAIL_SIDE, w // DETAIL_SIDE)
        grey = grey.mean(axis=(2, 4))
    else:
        from PIL import Image
        grey = np.stack([np.asarray(Image.fromarray(g).resize((DETAIL_SIDE, DETAIL_SIDE),
                                                              Image.BILINEAR)) for g in grey])
    dx = np.abs(np.diff(grey, axis=2)).mean(axis=(1, 2))
    dy = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2))
    return (dx + dy) / 2.0


class Fitness:
    """Turns images into objectives for a target (see objectives())."""

    def __init__(self, target: Target, model_name: str, expression_model: Any = None,
                 need_mood: bool = False, need_detail: bool = False,
                 mood_model: str = "auto") -> None:
        from moodshift.mood import check_mood_model

        if model_name not in FITNESS_MODELS:
            raise UserError(f"--fitness {model_name}: use one of {', '.join(FITNESS_MODELS)}")
        self.mood_model = check_mood_model(mood_model)
        self.target = target
        self.model_name = model_name
        self.expression_model = expression_model
        self.need_mood = need_mood or model_name == "mood"
        self.need_detail = need_detail

    def evaluate(self, images: np.ndarray) -> Evaluation:
        probs = None
        if self.model_name == "expression":
            probs = whole_image_probs(self.expression_model, images)
        mood = None
        if self.need_mood:
            from moodshift.mood import load_mood_model
            model = load_mood_model(self.mood_model)
            mood = np.array([m.as_tuple() for m in model.measure_batch(images)], dtype=np.float64)
        return Evaluation(probs, mood, detail(images) if self.need_detail else None)

    def objectives(self, ev: Evaluation) -> np.ndarray:
        """(n,) objective in [0, 1] for single targets; (n, 7) one column per emotion for the
        emotions target."""
        t = self.target
        if self.model_name == "expression":
            assert ev.probs is not None
            if t.kind == "emotions":
                return ev.probs
            if t.kind == "emotion":
                return ev.probs[:, EMOTIONS.index(str(t.emotion))]
            # A VAD target through a categorical classifier: the probability-weighted mean of
            # the emotions' coordinates is what the classifier "says" about V, A (, D).
            return closeness(ev.probs @ VAD_TABLE, t.wanted_vad())
        assert ev.mood is not None
        if t.kind == "emotions":
            return np.stack([closeness(ev.mood, EMOTION_VAD[e].as_tuple()) for e in EMOTIONS],
                            axis=1)
        return closeness(ev.mood, t.wanted_vad())


def load_judge(name: str, fitness_model: str, expression_model: str) -> Any:
    """The judge model (None for "none"); refuses the model that provides the fitness."""
    if name not in JUDGES:
        raise UserError(f"--judge {name}: use one of {', '.join(JUDGES)}")
    if name == "none":
        return None
    from moodshift.expression.load import ALIASES, load_expression_model

    used = ALIASES.get(expression_model.lower(), expression_model.lower())
    if fitness_model == "expression" and used == name:
        raise UserError(f"--judge {name}: the judge must be a different model from the one "
                        "that gives the fitness")
    try:
        return load_expression_model(name)
    except UserError as exc:
        raise UserError(f"--judge {name}: {exc} (or pass --judge none)") from None


TOP_ELITES = 10


def judge_agreement(judge: Any, judge_name: str, images: np.ndarray,
                    intended: list[str]) -> dict[str, object]:
    """How often the judge's top emotion is the intended one, and its mean probability of it:
    over all elites and over the TOP_ELITES best (images come best objective first)."""
    if judge is None or len(images) == 0:
        return {"model": judge_name, "elites": 0, "agreement": None}
    probs = whole_image_probs(judge, images)
    idx = np.array([EMOTIONS.index(e) for e in intended])
    hit = probs.argmax(axis=1) == idx
    wanted = probs[np.arange(len(idx)), idx]
    per_emotion: dict[str, dict[str, float]] = {}
    for e in dict.fromkeys(intended):
        rows = idx == EMOTIONS.index(e)
        per_emotion[e] = {"elites": int(rows.sum()),
                          "agreement": round(float(hit[rows].mean()), 4),
                          "probability": round(float(wanted[rows].mean()), 4)}
    top = min(TOP_ELITES, len(idx))
    return {"model": judge_name, "elites": len(images),
            "agreement": round(float(hit.mean()), 4),
            "mean_probability": round(float(wanted.mean()), 4),
            "top_elites": top,
            "top_agreement": round(float(hit[:top].mean()), 4),
            "top_mean_probability": round(float(wanted[:top].mean()), 4),
            "chance": round(1.0 / len(EMOTIONS), 4),
            "per_emotion": per_emotion}
