"""Linear attribute directions in the style space (InterFaceGAN, Shen et al. 2020).

Emotions: a ridge regression of the labelling models' log-odds of the emotion (the mean over
msnet and face-api of log(p / (1 - p))) on the style; its coefficient vector is the direction.
The continuous target keeps what the judges see on every face: on FFHQ's mostly smiling faces an
argmax or top-vs-bottom label leaves fear, disgust and surprise almost no positive examples,
while their log-odds still vary from face to face (see the model card). The ridge strength is
chosen by leave-one-out on the training part; a held-out ``HOLDOUT`` of the faces gives the
correlation of predicted and read log-odds and the accuracy on its top vs bottom
``EXTREME_FRACTION``.
Age and gender: the top and bottom ``EXTREME_FRACTION`` of the reading (face-api's age in years,
its p(male)) are two classes, and an L2 logistic regression gives the normal; accuracy on a
held-out ``HOLDOUT`` of them.
Conditional independence: each emotion direction has the age and gender normals projected out,
age has gender and happy projected out, gender has age and happy (so making a face smile does not
make it younger, and making it older does not change its sex or smile); see CONDITIONED_ON for
the emotions.
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


RIDGE_ALPHAS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)
PROB_FLOOR = 1e-4   # probabilities are clipped to [floor, 1 - floor] before the log-odds


def log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), PROB_FLOOR, 1.0 - PROB_FLOOR)
    return np.log(p / (1.0 - p))


def emotion_log_odds(labels: FaceLabels) -> np.ndarray:
    """(n, 7) the mean over the labelling judges of each emotion's log-odds."""
    return (log_odds(labels.msnet) + log_odds(labels.faceapi)) / 2.0


def fit_regression(x: np.ndarray, target: np.ndarray, seed: int = 0) -> dict[str, object]:
    """Unit direction, offset (the position where the predicted target is 0) and held-out
    figures of a ridge regression of ``target`` on ``x``."""
    from sklearn.linear_model import Ridge, RidgeCV

    perm = np.random.default_rng(seed).permutation(len(target))
    n_test = max(4, int(round(HOLDOUT * len(target))))
    test, train = perm[:n_test], perm[n_test:]
    alpha = float(RidgeCV(alphas=RIDGE_ALPHAS).fit(x[train], target[train]).alpha_)
    held = Ridge(alpha=alpha).fit(x[train], target[train]).predict(x[test])
    r = float(np.corrcoef(held, target[test])[0, 1])
    order = np.argsort(target[test])
    k = max(2, int(round(EXTREME_FRACTION * n_test)))
    low, high = held[order[:k]], held[order[-k:]]
    cut = np.median(np.concatenate([low, high]))
    acc = float(((low <= cut).sum() + (high > cut).sum()) / (2 * k))
    model = Ridge(alpha=alpha).fit(x, target)   # the shipped direction uses every face
    w = model.coef_.astype(np.float64)
    norm = float(np.linalg.norm(w))
    everything = np.argsort(target)
    kk = max(4, int(round(EXTREME_FRACTION * len(target))))
    return {"normal": w / norm, "offset": float(-model.intercept_ / norm), "slope": norm,
            "heldout_r": r, "heldout_accuracy": acc, "heldout_n": int(2 * k),
            "train_n": int(len(train)), "alpha": alpha,
            "low_mean": float(target[everything[:kk]].mean()),
            "high_mean": float(target[everything[-kk:]].mean())}


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
    odds = emotion_log_odds(labels)
    fits = {a: fit_regression(x, odds[:, EMOTIONS.index(a)], seed) if a in EMOTIONS
            else fit_boundary(x, scores[a], seed) for a in ATTRIBUTES}
    raw = np.stack([fits[a]["normal"] for a in ATTRIBUTES])
    cond = np.stack([project_out(raw[i], raw[[ATTRIBUTES.index(o) for o in CONDITIONED_ON[a]]])
                     for i, a in enumerate(ATTRIBUTES)])
    offsets = np.array([fits[a]["offset"] for a in ATTRIBUTES])
    report = {}
    for i, a in enumerate(ATTRIBUTES):
        f = fits[a]
        report[a] = {"method": "ridge on log-odds" if a in EMOTIONS else "logistic, extremes",
                     "heldout_accuracy": round(f["heldout_accuracy"], 4),
                     "heldout_n": f["heldout_n"], "train_n": f["train_n"],
                     "low_mean": round(f["low_mean"], 4), "high_mean": round(f["high_mean"], 4),
                     "cosine_raw_vs_conditional": round(float(raw[i] @ cond[i]), 4)}
        if a in EMOTIONS:
            report[a] |= {"heldout_r": round(f["heldout_r"], 4), "alpha": f["alpha"],
                          "log_odds_per_unit": round(f["slope"], 4)}
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
