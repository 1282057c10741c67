"""The exact-stratum check (:mod:`mixedfit.engine.residual.exact`) with one column of a vector
random-effect term vanishing alone (exact3's open item).

``y ~ stratum * x + (1 + z | g)``, VarIdent(stratum): stratum B has 4 rows, two in each of the
levels g0 and g1, on ``y = a_g + 0.3 x`` exactly (a_g0 = 2, a_g1 = −1). All the columns span B's
rows (rank [Z_B X_B] = 4 = n_B: no unbounded fall), X alone does not fit them (the two levels'
intercepts differ), but with the slope z's variance at 0 the g intercepts and X fit them exactly
with rank 3 < 4: the REML criterion falls by 2 log 10 per decade of B's ratio without bound
(computed below with the dense V, independently of mixedfit), so the model has no maximum.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import MixedFitError


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for g in range(6):
        b0, b1 = rng.normal(0, 1.0), rng.normal(0, 0.5)
        for _ in range(6):
            x, z = rng.normal(), rng.normal()
            y = 1 + 0.5 * x + b0 + b1 * z + rng.normal(0, 0.7)
            rows.append(dict(g=f"g{g}", stratum="A", x=x, z=z, y=y))
    for g, a, xs, zs in (
        ("g0", 2.0, (1.0, 3.0), (0.3, -1.2)),
        ("g1", -1.0, (2.0, 4.0), (0.8, 1.9)),
    ):
        for x, z in zip(xs, zs, strict=True):
            rows.append(dict(g=g, stratum="B", x=x, z=z, y=a + 0.3 * x))
    return pd.DataFrame(rows)


def _reml_deviance(d: pd.DataFrame, t_int: float, t_slope: float, ratio: float) -> float:
    """−2 REML log-likelihood profiled over σ, up to a constant: Λ = diag(t_int, t_slope) per
    level (a 0 drops those columns), B's residual sd ``ratio`` times A's; from the Householder QR
    of the whitened [Z Λ, X, y] over [I, 0, 0] (rows by decreasing norm, as lme4's criterion
    with log|Λ_R| added; no V formed: it is singular to rounding at tiny ratios)."""
    X = np.column_stack([np.ones(len(d)), d.stratum == "B", d.x, (d.stratum == "B") * d.x])
    levels = sorted(d.g.unique())
    G = (d.g.to_numpy()[:, None] == np.array(levels)[None, :]).astype(float)
    blocks = [G * t_int] if t_int else []
    if t_slope:
        blocks.append(G * d.z.to_numpy()[:, None] * t_slope)
    Z = np.hstack(blocks) if blocks else np.zeros((len(d), 0))
    s = np.where(d.stratum == "B", ratio, 1.0)
    n, p, q = len(d), X.shape[1], Z.shape[1]
    top = np.column_stack([Z, X, d.y.to_numpy()]) / s[:, None]
    A = np.vstack([top, np.hstack([np.eye(q), np.zeros((q, p + 1))])])
    A = A[np.argsort(-(A**2).sum(axis=1), kind="stable")]
    dg = np.abs(np.diag(np.linalg.qr(A, mode="r")))
    r2 = dg[q + p] ** 2
    return float(2 * np.log(s).sum() + 2 * np.log(dg[: q + p]).sum() + (n - p) * math.log(r2))


def test_dense_reml_falls_without_bound_with_the_slope_variance_at_zero() -> None:
    d = _data()
    ratios = 10.0 ** -np.arange(4, 9)
    face = [_reml_deviance(d, 1.0, 0.0, r) for r in ratios]
    np.testing.assert_allclose(np.diff(face), -2 * math.log(10), rtol=1e-4)
    full = [_reml_deviance(d, 1.0, 0.5, r) for r in ratios]
    assert abs(full[-1] - full[-2]) < 1e-6  # all columns: bounded (rank 4 = n_B)
    alone = [_reml_deviance(d, 0.0, 0.0, r) for r in ratios]
    assert abs(alone[-1] - alone[-2]) > 10  # X alone: r² grows like 1/δ², the criterion rises
    assert alone[-1] > alone[-2]


@pytest.mark.parametrize("reml", [True, False])
def test_stratum_fitted_with_one_column_of_a_vector_term_vanished_is_refused(reml: bool) -> None:
    with pytest.raises(MixedFitError, match=r"stratum 'B' of 'stratum'.*fitted exactly"):
        mf.lmer(
            "y ~ stratum * x + (1 + z | g)", _data(), reml=reml, residual=mf.VarIdent("stratum")
        )


def test_same_stratum_off_the_line_fits() -> None:
    d = _data()
    d.loc[d.stratum == "B", "y"] += 0.05 * np.array([1.0, -2.0, 0.5, 1.5])
    fit = mf.lmer("y ~ stratum * x + (1 + z | g)", d, residual=mf.VarIdent("stratum"))
    assert np.isfinite(fit.loglik)
