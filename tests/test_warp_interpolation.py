"""The warp's own piecewise-linear interpolation and non-negative fit equal scipy's.

`stylize` avoids importing scipy.interpolate and scipy.optimize (most of a second per run), so
these check the replacements against the scipy functions they stand in for."""

from __future__ import annotations

import numpy as np
import pytest
from probes import modules_loaded_by
from scipy.interpolate import LinearNDInterpolator
from scipy.optimize import nnls as scipy_nnls

from moodshift.style.editing.expression import nnls
from moodshift.style.editing.warp import piecewise_linear


@pytest.mark.parametrize("seed", range(6))
def test_piecewise_linear_equals_scipys_linear_interpolation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = 90, 70
    n = int(rng.integers(3, 200))
    # points inside, on and beyond the grid (as the warp's outer anchors can be), plus corners
    points = rng.uniform(-0.2, 1.2, (n, 2)) * (w - 1, h - 1)
    if seed % 2:
        points = np.concatenate([points, [[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]]])
    values = rng.normal(size=(len(points), 2))
    grid = np.stack(np.meshgrid(np.arange(w), np.arange(h)), -1).reshape(-1, 2)
    expected = LinearNDInterpolator(points, values, fill_value=0.0)(grid).reshape(h, w, 2)
    np.testing.assert_allclose(piecewise_linear(points, values, (h, w)),
                               np.nan_to_num(expected), atol=1e-9)


def test_nnls_equals_scipys_on_the_warps_problem_sizes() -> None:
    rng = np.random.default_rng(0)
    for k in range(1, 7):
        basis = rng.normal(size=(120, k))
        target = basis @ rng.normal(size=k) + 0.1 * rng.normal(size=120)
        coef, resid = nnls(basis, target)
        ref_coef, ref_resid = scipy_nnls(basis, target)
        assert (coef >= 0).all()
        assert resid == pytest.approx(ref_resid, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(basis @ coef, basis @ ref_coef, atol=1e-9)


def test_stylize_modules_do_not_import_scipy() -> None:
    imports = ("moodshift.stylize, moodshift.style.editing.render, "
               "moodshift.style.editing.expression, moodshift.style.editing.warp")
    assert modules_loaded_by(imports, ("scipy", "torch")) == []
