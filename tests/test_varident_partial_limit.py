"""A σ → 0 limit with VarIdent where only one stratum's residual variance vanishes (issue 12,
review rv15 finding 1; ``mixedfit/engine/residual/partial.py``).

``ar1(0 + occf | Subject, hom=False)`` + ``AR1 & VarIdent(grp)`` on plain_5 (REML): the fit was
moved to the full σ → 0 limit (ℓ −7.455129, every stratum's residual variance gone) while the
supremum is the limit with only stratum a's residual variance at 0 (ℓ −7.405454, 0.0497 higher).
The expected value is computed here, independently of mixedfit: a dense REML criterion of that
limit model (a's residual variance exactly 0, b's σ_b² AR1(φ), G relative to σ_b²) maximized
with scipy.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import mixedfit as mf

DATA = Path(__file__).parent / "reference" / "varident_partial_limit" / "plain_5.csv"
K = 5  # visits per subject


def _data() -> pd.DataFrame:
    d = pd.read_csv(DATA)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, K + 1)])
    return d


def _partial_limit_deviance(d: pd.DataFrame):
    """The REML deviance (σ_b profiled) of the limit model with stratum a's residual variance
    exactly 0: per subject V_i = G + [b] R(φ), G_jk = s_j s_k ρ^|j−k|, R = φ^|j−k|."""
    d = d.sort_values(["Subject", "occ"])
    is_b = (d.groupby("Subject", sort=True)["grp"].first() == "b").to_numpy()
    Y = d["y"].to_numpy().reshape(-1, K)
    Xs = np.stack([np.ones_like(Y), d["x"].to_numpy().reshape(-1, K)], -1)
    n, p = Y.size, Xs.shape[-1]
    lags = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))

    def dev(q: np.ndarray) -> float:
        s = np.exp(q[:K])
        G = np.outer(s, s) * np.tanh(q[K]) ** lags
        V = G[None] + np.where(is_b, 1.0, 0.0)[:, None, None] * (np.tanh(q[K + 1]) ** lags)[None]
        try:
            C = np.linalg.cholesky(V)
        except np.linalg.LinAlgError:
            return 1e10
        logdet = 2 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum()
        Xw = np.linalg.solve(C, Xs)
        yw = np.linalg.solve(C, Y[..., None])[..., 0]
        XVX = np.einsum("ski,skj->ij", Xw, Xw)
        XVy = np.einsum("ski,sk->i", Xw, yw)
        r2 = (yw**2).sum() - XVy @ np.linalg.solve(XVX, XVy)
        return float(
            (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + logdet + np.linalg.slogdet(XVX)[1]
        )

    return dev


def _partial_limit_loglik(d: pd.DataFrame) -> float:
    dev = _partial_limit_deviance(d)
    best = np.inf
    for start in (np.r_[np.full(K, 3.0), 0.8, -0.5], np.r_[np.zeros(K), 0.5, 0.5]):
        o = minimize(
            dev,
            start,
            method="Nelder-Mead",
            options={"maxfev": 8000, "xatol": 1e-10, "fatol": 1e-13, "adaptive": True},
        )
        o = minimize(dev, o.x, method="BFGS", options={"gtol": 1e-9})
        best = min(best, float(o.fun))
    return -best / 2


@pytest.fixture(scope="module")
def expected() -> float:
    return _partial_limit_loglik(_data())


@pytest.mark.parametrize("order", ["as written", "b rows first"])
def test_partial_limit_one_stratum(order: str, expected: float) -> None:
    d = _data()
    if order == "b rows first":
        d = pd.concat([d[d.grp == "b"], d[d.grp == "a"]]).reset_index(drop=True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    assert abs(expected - -7.4054536403) < 1e-8  # rv15's value (vi5_partial_limit.py)
    assert abs(fit.loglik - expected) < 1e-6  # was −7.455129 (the full σ → 0 limit)
    assert fit.loglik <= expected + 1e-8
    params = fit.residual.params
    assert abs(float(params["Phi"]) - 0.0055) < 1e-3
    assert float(params["b"]) > 1e3  # a's residual variance vanishes, b's stays
    texts = [str(w.message) for w in seen if issubclass(w.category, mf.BoundaryWarning)]
    assert any("stratum 'a'" in t for t in texts)
    assert not any("σ → 0: the residual variance vanishes against" in t for t in texts)
