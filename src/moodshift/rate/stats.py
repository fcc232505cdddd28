"""Agreement statistics for the rating report, computed with numpy only.

Inter-rater agreement is Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's
alpha-reliability", Annenberg School for Communication, departmental paper 43): it accepts any
number of raters per image and missing ratings, which a rating study where raters skip or stop
early always has (ICC(2,1) needs every rater to rate every image). Interval metric for the SAM
scales, nominal metric for emotion labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np


def krippendorff_alpha_interval(units: Sequence[Sequence[float]]) -> float | None:
    """Alpha for interval data; units = the ratings each image received (any count).

    alpha = 1 - D_o / D_e, where D_o averages squared differences between ratings of the same
    image and D_e those between all pairable ratings. None when it is undefined (fewer than two
    pairable ratings, or no variation at all).
    """
    pairable = [np.asarray(u, dtype=np.float64) for u in units if len(u) >= 2]
    n = sum(len(u) for u in pairable)
    if n < 2:
        return None
    # Sum over ordered pairs i != j of (v_i - v_j)^2 = 2 m sum(v^2) - 2 (sum v)^2.
    def pair_sum(v: np.ndarray) -> float:
        return float(2 * len(v) * np.sum(v * v) - 2 * np.sum(v) ** 2)

    observed = sum(pair_sum(u) / (len(u) - 1) for u in pairable) / n
    everything = np.concatenate(pairable)
    expected = pair_sum(everything) / (n * (n - 1))
    if expected <= 0:
        return None
    return 1.0 - observed / expected


def krippendorff_alpha_nominal(units: Sequence[Sequence[Hashable]]) -> float | None:
    """Alpha for nominal data (labels): disagreement is 1 between different labels, else 0."""
    pairable = [list(u) for u in units if len(u) >= 2]
    n = sum(len(u) for u in pairable)
    if n < 2:
        return None

    def disagreeing_pairs(values: list[Hashable]) -> float:
        # Ordered pairs with different labels = m^2 - sum over labels of count^2.
        counts: dict[Hashable, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        return float(len(values) ** 2 - sum(c * c for c in counts.values()))

    observed = sum(disagreeing_pairs(u) / (len(u) - 1) for u in pairable) / n
    expected = disagreeing_pairs([v for u in pairable for v in u]) / (n * (n - 1))
    if expected <= 0:
        return None
    return 1.0 - observed / expected


@dataclass(frozen=True)
class Correlation:
    """Pearson r between intended and mean rated values over images, with a 95% interval."""

    r: float | None
    n: int
    ci95: tuple[float, float] | None

    def to_json(self) -> dict[str, object]:
        return {"r": None if self.r is None else round(self.r, 4), "n": self.n,
                "ci95": None if self.ci95 is None else [round(c, 4) for c in self.ci95]}


def pearson(x: Sequence[float], y: Sequence[float]) -> Correlation:
    """Pearson r; the interval uses Fisher's z transform (needs n >= 4)."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    n = int(a.size)
    if n < 3:
        return Correlation(None, n, None)
    da, db = a - a.mean(), b - b.mean()
    denom = math.sqrt(float(np.sum(da * da)) * float(np.sum(db * db)))
    if denom == 0:
        return Correlation(None, n, None)
    r = max(-1.0, min(1.0, float(np.sum(da * db)) / denom))
    if n < 4 or abs(r) >= 1.0:
        return Correlation(r, n, None)
    z, half = math.atanh(r), 1.959964 / math.sqrt(n - 3)
    return Correlation(r, n, (math.tanh(z - half), math.tanh(z + half)))


def sam_to_unit(score: float) -> float:
    """Map a SAM rating 1..9 onto moodshift's VAD range -1..1 (5, the middle, is 0)."""
    return (score - 5.0) / 4.0
