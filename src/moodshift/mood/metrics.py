"""Agreement between a mood model and mean human ratings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moodshift.emotions import EMOTIONS


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def ranks(a: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    _, inverse, counts = np.unique(np.asarray(a, dtype=np.float64), return_inverse=True,
                                   return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.ravel()]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return pearson(ranks(a), ranks(b))


def kl_rows(p: np.ndarray, q: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """KL(p || q) per row, in nats (0 log 0 = 0)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.clip(np.asarray(q, dtype=np.float64), eps, 1.0)
    logp = np.log(np.clip(p, eps, 1.0))
    return np.where(p > 0, p * (logp - np.log(q)), 0.0).sum(axis=1)


@dataclass
class AxisAgreement:
    pearson: float
    spearman: float
    mae: float

    def to_json(self) -> dict[str, float]:
        return {"pearson_r": round(self.pearson, 4), "spearman_r": round(self.spearman, 4),
                "mae": round(self.mae, 4)}


def axis_agreement(pred: np.ndarray, human: np.ndarray) -> AxisAgreement:
    pred, human = np.asarray(pred, dtype=np.float64), np.asarray(human, dtype=np.float64)
    return AxisAgreement(pearson(pred, human), spearman(pred, human),
                         float(np.mean(np.abs(pred - human))))


@dataclass
class EmotionAgreement:
    mean_kl: float
    top1: float            # share of images whose predicted top emotion is the raters' modal one
    majority_top1: float   # the same for always answering the most common modal emotion
    per_emotion: dict[str, dict[str, float]]   # mean predicted vs mean rated share

    def to_json(self) -> dict[str, object]:
        return {"mean_kl": round(self.mean_kl, 4), "top1": round(self.top1, 4),
                "majority_top1": round(self.majority_top1, 4), "per_emotion": self.per_emotion}


def emotion_agreement(pred: np.ndarray, human: np.ndarray) -> EmotionAgreement:
    pred, human = np.asarray(pred, dtype=np.float64), np.asarray(human, dtype=np.float64)
    modal = human.argmax(axis=1)
    counts = np.bincount(modal, minlength=len(EMOTIONS))
    per = {e: {"predicted": round(float(pred[:, i].mean()), 4),
               "rated": round(float(human[:, i].mean()), 4),
               "pearson_r": round(pearson(pred[:, i], human[:, i]), 4)}
           for i, e in enumerate(EMOTIONS)}
    return EmotionAgreement(float(kl_rows(human, pred).mean()),
                            float(np.mean(pred.argmax(axis=1) == modal)),
                            float(counts.max() / len(modal)), per)
