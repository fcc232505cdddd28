"""Grouped k-fold cross-validation of the heads (no image in train and test at once)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from moodshift.mood.metrics import axis_agreement, emotion_agreement
from moodshift.mood.rated import shares_to_probs
from moodshift.mood.training.heads import (
    Calibration,
    Standardiser,
    fit_softmax_kl,
    kernel_ridge_path,
    pca_basis,
    rbf_kernel,
    ridge_path,
    softmax,
)


def grouped_folds(groups: list[str], sets: np.ndarray, k: int, seed: int) -> np.ndarray:
    """A fold index per row: every row of a group in one fold; each data set spread evenly."""
    rng = np.random.default_rng(seed)
    fold_of_group: dict[str, int] = {}
    for name in sorted(set(sets.tolist())):
        mine = sorted({g for g, s in zip(groups, sets) if s == name and g not in fold_of_group})
        order = rng.permutation(len(mine))
        start = int(rng.integers(k))
        for j, idx in enumerate(order):
            fold_of_group[mine[idx]] = (start + j) % k
    return np.array([fold_of_group[g] for g in groups])


@dataclass
class CVResult:
    """Out-of-fold predictions for every row, per penalty."""

    alphas: np.ndarray
    va: np.ndarray                   # (len(alphas), n, 2) on each row's data-set calibration
    emotions: dict[float, np.ndarray] = field(default_factory=dict)   # l2 -> (n_e, 7)


def cv_ridge(x: np.ndarray, va: np.ndarray, sets: np.ndarray, folds: np.ndarray,
             alphas: np.ndarray) -> np.ndarray:
    """Out-of-fold valence/arousal (len(alphas), n, 2), z-scored per set in each training fold
    and mapped back with that fold's calibration of the row's own set."""
    out = np.zeros((len(alphas), len(x), 2))
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        std = Standardiser.fit(x[tr])
        cals = [Calibration.fit(va[tr, i], sets[tr]) for i in range(2)]
        z = np.stack([c.to_z(va[tr, i], sets[tr]) for i, c in enumerate(cals)], axis=1)
        pred = ridge_path(std(x[tr]), z, std(x[te]), alphas)
        out[:, te] = _to_set_scale(pred, cals, sets[te])
    return out


def _to_set_scale(pred_z: np.ndarray, cals: list[Calibration], sets: np.ndarray) -> np.ndarray:
    out = np.empty_like(pred_z)
    for i, c in enumerate(cals):
        scale = np.array([c.sd.get(s, np.mean(list(c.sd.values()))) for s in sets])
        shift = np.array([c.mean.get(s, np.mean(list(c.mean.values()))) for s in sets])
        out[..., i] = pred_z[..., i] * scale + shift
    return out


def cv_kernel(x: np.ndarray, va: np.ndarray, sets: np.ndarray, folds: np.ndarray,
              components: int, gammas: list[float], alphas: np.ndarray) -> np.ndarray:
    """Out-of-fold valence/arousal of RBF kernel ridge on the top principal components:
    (len(gammas), len(alphas), n, 2)."""
    out = np.zeros((len(gammas), len(alphas), len(x), 2))
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        std = Standardiser.fit(x[tr])
        a, b = std(x[tr]), std(x[te])
        basis, scale = pca_basis(a, components)
        a, b = a @ basis / scale, b @ basis / scale
        cals = [Calibration.fit(va[tr, i], sets[tr]) for i in range(2)]
        z = np.stack([c.to_z(va[tr, i], sets[tr]) for i, c in enumerate(cals)], axis=1)
        for g, gamma in enumerate(gammas):
            pred = kernel_ridge_path(rbf_kernel(a, a, gamma), z, rbf_kernel(b, a, gamma), alphas)
            out[g, :, te] = _to_set_scale(pred, cals, sets[te]).transpose(1, 0, 2)
    return out


def cv_kernel_shares(x: np.ndarray, p: np.ndarray, has: np.ndarray, folds: np.ndarray,
                     components: int, gamma: float, alphas: list[float]) -> dict[float, np.ndarray]:
    """Out-of-fold emotion distributions (rows with shares only) from kernel ridge regression
    of the shares on the valence/arousal head's kernel: standardisation and principal
    components from all training rows, as that head has them; the ridge on the rows with
    shares. ``{alpha: (n_has, 7)}``."""
    out = {a: np.zeros((int(has.sum()), p.shape[1])) for a in alphas}
    rows = np.flatnonzero(has)
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        std = Standardiser.fit(x[tr])
        a, b = std(x[tr]), std(x[te & has])
        basis, scale = pca_basis(a, components)
        a, b = a @ basis / scale, b @ basis / scale
        fit = has[tr]
        pred = kernel_ridge_path(rbf_kernel(a[fit], a[fit], gamma), p[tr & has],
                                 rbf_kernel(b, a[fit], gamma), np.asarray(alphas))
        where = np.isin(rows, np.flatnonzero(te & has))
        for i, alpha in enumerate(alphas):
            out[alpha][where] = shares_to_probs(pred[i])
    return out


def cv_emotions(x: np.ndarray, p: np.ndarray, folds: np.ndarray, l2s: list[float],
                max_iter: int = 150) -> dict[float, np.ndarray]:
    """Out-of-fold emotion distributions for each L2 penalty (rows with shares only)."""
    out = {l2: np.zeros_like(p) for l2 in l2s}
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        std = Standardiser.fit(x[tr])
        xtr, xte = std(x[tr]), std(x[te])
        init = None
        for l2 in sorted(l2s, reverse=True):      # warm start from the stronger penalty
            w, b, _ = fit_softmax_kl(xtr, p[tr], l2, max_iter=max_iter, init=init)
            init = (w, b)
            out[l2][te] = softmax(xte @ w.T + b)
    return out


def summarise(va_pred: np.ndarray, va: np.ndarray, sets: np.ndarray) -> dict[str, dict]:
    """Agreement per data set: n, valence and arousal (Pearson, Spearman, MAE)."""
    out: dict[str, dict] = {}
    for name in sorted(set(sets.tolist())):
        m = sets == name
        out[name] = {"n": int(m.sum()),
                     "valence": axis_agreement(va_pred[m, 0], va[m, 0]).to_json(),
                     "arousal": axis_agreement(va_pred[m, 1], va[m, 1]).to_json()}
    return out


def emotion_summary(pred: np.ndarray, human: np.ndarray) -> dict[str, object]:
    return {"n": len(human), **emotion_agreement(pred, human).to_json()}
