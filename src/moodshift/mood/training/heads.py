"""The small heads on top of the frozen features, and how they are fitted.

* valence / arousal: ridge regression on standardised features, solved in the dual (n < d), for
  a whole grid of penalties at once. Targets are z-scored per data set ("per-dataset
  calibration"): the head learns one shared affect axis, and each data set's mean and spread map
  it back onto that set's scale; new images get the average of the sets' maps.
* emotions: a 7-way softmax regression fitted to the raters' shares with the KL divergence
  (equivalently soft-label cross-entropy) plus an L2 penalty, by L-BFGS; with a kernel
  valence/arousal head, optionally mixed with kernel ridge regression of the shares on the
  same kernel (which ranks the emotions better than the linear softmax).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

EPS = 1e-8


@dataclass
class Standardiser:
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardiser:
        return cls(x.mean(axis=0), x.std(axis=0) + 1e-6)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale


def ridge_path(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
               alphas: np.ndarray) -> np.ndarray:
    """Ridge predictions on x_test for every alpha: (len(alphas), n_test, n_targets).
    x must be centred with the train mean; y is centred here and its mean added back."""
    y_mean = y_train.mean(axis=0)
    yc = y_train - y_mean
    gram = x_train @ x_train.T
    evals, evecs = np.linalg.eigh(gram)
    proj = evecs.T @ yc                           # (n, t)
    cross = x_test @ x_train.T @ evecs            # (m, n)
    out = np.empty((len(alphas), x_test.shape[0], y_train.shape[1]))
    for i, alpha in enumerate(alphas):
        out[i] = cross @ (proj / (evals + alpha)[:, None]) + y_mean
    return out


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Primal weights (d, t) and intercept (t,) of ridge on centred-by-caller x."""
    y_mean = y.mean(axis=0)
    gram = x @ x.T
    dual = np.linalg.solve(gram + alpha * np.eye(len(x)), y - y_mean)
    return x.T @ dual, y_mean


def pca_basis(a: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """The top-k principal directions (d, k) of centred rows ``a`` (through the n x n Gram
    matrix, cheaper than an SVD when n < d) and the mean SD of the projections (to scale them
    to unit size)."""
    evals, evecs = np.linalg.eigh(a @ a.T)
    top = np.argsort(evals)[::-1][:k]
    basis = a.T @ (evecs[:, top] / np.sqrt(np.maximum(evals[top], 1e-12)))
    proj = a @ basis
    return basis, float(proj.std(axis=0).mean())


def rbf_kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """exp(-gamma * |a_i - b_j|^2 / k) for rows of width k."""
    sq = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None] - 2.0 * a @ b.T
    return np.exp(-gamma / a.shape[1] * np.maximum(sq, 0.0))


def kernel_ridge_path(k_train: np.ndarray, y_train: np.ndarray, k_test: np.ndarray,
                      alphas: np.ndarray) -> np.ndarray:
    """Kernel ridge predictions (len(alphas), n_test, n_targets); y centred here."""
    y_mean = y_train.mean(axis=0)
    evals, evecs = np.linalg.eigh(k_train)
    proj = evecs.T @ (y_train - y_mean)
    cross = k_test @ evecs
    return np.stack([cross @ (proj / (evals + a)[:, None]) + y_mean for a in alphas])


def kernel_ridge_fit(k_train: np.ndarray, y: np.ndarray, alpha: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Dual coefficients (n, t) and intercept (t,)."""
    y_mean = y.mean(axis=0)
    return np.linalg.solve(k_train + alpha * np.eye(len(k_train)), y - y_mean), y_mean


@dataclass
class Calibration:
    """Per-data-set mean and SD of a target (in [-1, 1] units)."""

    mean: dict[str, float]
    sd: dict[str, float]

    @classmethod
    def fit(cls, y: np.ndarray, sets: np.ndarray) -> Calibration:
        names = sorted(set(sets.tolist()))
        return cls({n: float(y[sets == n].mean()) for n in names},
                   {n: float(y[sets == n].std() + 1e-6) for n in names})

    def to_z(self, y: np.ndarray, sets: np.ndarray) -> np.ndarray:
        return np.array([(v - self.mean[s]) / self.sd[s] for v, s in zip(y, sets)])

    def from_z(self, z: np.ndarray, dataset: str | None = None) -> np.ndarray:
        """Back to a data set's scale; ``None`` (or a set not trained on): the average map."""
        if dataset in self.mean:
            return z * self.sd[dataset] + self.mean[dataset]
        mean = float(np.mean(list(self.mean.values())))
        sd = float(np.mean(list(self.sd.values())))
        return z * sd + mean

    def to_json(self) -> dict[str, dict[str, float]]:
        return {"mean": self.mean, "sd": self.sd}


def fit_softmax_kl(x: np.ndarray, p: np.ndarray, l2: float, max_iter: int = 200,
                   init: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Softmax regression W (k, d), b (k,) minimising mean KL(p || softmax(xW^T + b)) +
    l2/2 |W|^2 with L-BFGS (scipy); returns the objective after each iteration too. Starts
    from W = 0 and b = log of the mean shares (the constant answer) unless ``init`` is given."""
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    n, d = x.shape
    k = p.shape[1]
    entropy = float((p * np.log(np.clip(p, EPS, 1.0))).sum(axis=1).mean())
    if init is None:
        init = (np.zeros((k, d)), np.log(np.clip(p.mean(axis=0), EPS, 1.0)))
    theta0 = np.concatenate([np.ravel(init[0]), np.ravel(init[1])])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:k * d].reshape(k, d), theta[k * d:]
        z = x @ w.T + b
        z = z - z.max(axis=1, keepdims=True)
        logq = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -(p * logq).sum(axis=1).mean() + entropy + 0.5 * l2 * float((w * w).sum())
        diff = (np.exp(logq) - p) / n
        grad_w = diff.T @ x + l2 * w
        return loss, np.concatenate([grad_w.ravel(), diff.sum(axis=0)])

    losses = [objective(theta0)[0]]

    def record(intermediate_result: Any) -> None:   # scipy passes the iterate's objective
        losses.append(float(intermediate_result.fun))

    result = minimize(objective, theta0, jac=True, method="L-BFGS-B", callback=record,
                      options={"maxiter": max_iter, "gtol": 1e-7})
    w, b = result.x[:k * d].reshape(k, d), result.x[k * d:]
    return w, b, losses


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
