"""Linear attribute boundaries in the style space (InterFaceGAN, Shen et al. 2020).

For each attribute the labelled styles are ranked by the models' reading (an emotion's mean
probability from msnet and face-api, face-api's age in years, its p(male)); the top and bottom
``EXTREME_FRACTION`` are the two classes, a held-out ``HOLDOUT`` of them measures the boundary's
accuracy, and an L2 logistic regression on the rest gives its normal. Conditional independence:
each emotion normal has the age and gender normals projected out, age has gender and happy
projected out, gender has age and happy (so making a face smile does not make it younger, and
making it older does not change its sex or smile); see CONDITIONED_ON for the emotions.
"""

from __future__ import annotations

import numpy as np

from moodshift.emotions import EMOTIONS
from moodshift.generate.stylegan.directions import ATTRIBUTES
from moodshift.generate.stylegan.labels import FaceLabels

EXTREME_FRACTION = 0.3
HOLDOUT = 0.25
C = 0.1   # inverse L2 strength; 512 dimensions and a few hundred samples need regularising
# FFHQ faces mostly smile, so every other emotion's raw boundary is mostly "not smiling"
# (cosine -0.5 to -0.85 with happy in the shipped fit): those emotions also have happy and
# neutral projected out, leaving what sets them apart from a plain unsmiling face; generating
# them then holds the smile off separately (Directions.emotion_wanted).
SMILE_DIRECTIONS = ("happy", "neutral")
CONDITIONED_ON = {**{e: ("age", "male", *SMILE_DIRECTIONS) for e in EMOTIONS
                     if e not in SMILE_DIRECTIONS},
                  "happy": ("age", "male"), "neutral": ("age", "male"),
                  "age": ("male", "happy"), "male": ("age", "happy")}


def attribute_scores(labels: FaceLabels) -> dict[str, np.ndarray]:
    probs = labels.emotion_probs
    scores = {e: probs[:, i] for i, e in enumerate(EMOTIONS)}
    scores["age"] = labels.age
    scores["male"] = labels.p_male
    return scores


def fit_boundary(x: np.ndarray, score: np.ndarray, seed: int = 0) -> dict[str, object]:
    """Unit normal, offset and held-out accuracy of the boundary between the top and bottom
    EXTREME_FRACTION of ``score``."""
    from sklearn.linear_model import LogisticRegression

    order = np.argsort(score)
    k = max(4, int(round(EXTREME_FRACTION * len(score))))
    idx = np.concatenate([order[:k], order[-k:]])
    y = np.concatenate([np.zeros(k, int), np.ones(k, int)])
    perm = np.random.default_rng(seed).permutation(len(idx))
    n_test = max(2, int(round(HOLDOUT * len(idx))))
    test, train = perm[:n_test], perm[n_test:]
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(x[idx[train]], y[train])
    acc = float(clf.score(x[idx[test]], y[test]))
    clf.fit(x[idx], y)          # the shipped normal uses every extreme sample
    w = clf.coef_[0].astype(np.float64)
    norm = float(np.linalg.norm(w))
    return {"normal": w / norm, "offset": float(-clf.intercept_[0] / norm),
            "heldout_accuracy": acc, "heldout_n": int(n_test), "train_n": int(len(train)),
            "low_mean": float(score[order[:k]].mean()), "high_mean": float(score[order[-k:]].mean())}


def project_out(v: np.ndarray, others: np.ndarray) -> np.ndarray:
    """v minus its projection on the span of the rows of ``others``, renormalised."""
    q, _ = np.linalg.qr(others.T)
    out = v - q @ (q.T @ v)
    return out / np.linalg.norm(out)


def fit_all(styles: np.ndarray, mean: np.ndarray, labels: FaceLabels,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, dict]]:
    """(raw normals, conditional normals, offsets, per-attribute report) for ATTRIBUTES."""
    x = np.asarray(styles, np.float64) - mean
    scores = attribute_scores(labels)
    fits = {a: fit_boundary(x, scores[a], seed) for a in ATTRIBUTES}
    raw = np.stack([fits[a]["normal"] for a in ATTRIBUTES])
    cond = np.stack([project_out(raw[i], raw[[ATTRIBUTES.index(o) for o in CONDITIONED_ON[a]]])
                     for i, a in enumerate(ATTRIBUTES)])
    offsets = np.array([fits[a]["offset"] for a in ATTRIBUTES])
    report = {}
    for i, a in enumerate(ATTRIBUTES):
        f = fits[a]
        report[a] = {"heldout_accuracy": round(f["heldout_accuracy"], 4),
                     "heldout_n": f["heldout_n"], "train_n": f["train_n"],
                     "low_mean": round(f["low_mean"], 4), "high_mean": round(f["high_mean"], 4),
                     "cosine_raw_vs_conditional": round(float(raw[i] @ cond[i]), 4)}
    return raw, cond, offsets, report


def age_line(positions: np.ndarray, ages: np.ndarray, seed: int = 0) -> dict[str, float]:
    """age ~ intercept + slope * position (least squares), with held-out MAE in years."""
    perm = np.random.default_rng(seed).permutation(len(ages))
    n_test = max(2, int(round(HOLDOUT * len(ages))))
    test, train = perm[:n_test], perm[n_test:]
    slope, intercept = np.polyfit(positions[train], ages[train], 1)
    mae = float(np.abs(intercept + slope * positions[test] - ages[test]).mean())
    slope_all, intercept_all = np.polyfit(positions, ages, 1)
    return {"slope": float(slope_all), "intercept": float(intercept_all),
            "heldout_mae_years": round(mae, 2),
            "heldout_baseline_mae_years": round(float(np.abs(ages[train].mean()
                                                             - ages[test]).mean()), 2)}
