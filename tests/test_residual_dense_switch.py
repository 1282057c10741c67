"""The switch to the dense criterion below :data:`~mixedfit.engine.residual.criterion.DENSE_BELOW`
(issue 12, review rv17 finding 5: nothing exercised it directly).

Below a VarIdent spread of 1e-6 a model with a spanning structured term is evaluated from V's
blocks (:class:`~mixedfit.engine.residual.dense.DenseResidual`), above it by the QR of the
whitened rows. The criterion, β̂ and their SEs must be continuous across the switch and agree,
on both sides and far below it (where the QR's rounding grows like 1/δ: v1's criterion 3.9 too
low at δ = 1e-16), with a dense criterion computed here with numpy (V per subject by Cholesky,
β by GLS, σ² profiled: independent of mixedfit). Data: reviewer stress's v1 (ML) and c29 with
its labels swapped (REML, the tiny stratum the reference, so the spread comes from the other
ratio), tests/reference/cov_rar1_stress/.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dense_ar1_vi import whitened_sums

import mixedfit as mf
from mixedfit.covariance.reference import reference_groups
from mixedfit.design import build_design
from mixedfit.engine.residual import criterion
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

DATA = Path(__file__).parent / "reference" / "cov_rar1_stress"
FORMULA = "y ~ x + ar1(0 + occf | Subject)"
K = 6  # visits
THETA = np.array([2.0, 0.5])  # the ar1 term's sd (relative to σ) and ρ
EPS = 1e-9
BELOW = (1e-6 * (1 - 1e-3), 1e-6 * (1 - EPS), 1e-9, 1e-12, 1e-15)
ABOVE = (1e-3, 1e-6 * (1 + 1e-3), 1e-6 * (1 + EPS))


def _data(case: str) -> pd.DataFrame:
    d = pd.read_csv(DATA / f"{case.split()[0]}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, K + 1)])
    if case == "c29 swapped":  # the tiny stratum b is nlme's reference (its rows first)
        d["grp"] = d["grp"].map({"a": "b", "b": "a"})
        d = d.sort_values("grp", kind="stable").reset_index(drop=True)
    return d


def _criterion(d: pd.DataFrame) -> ResidualCriterion:
    design = build_design(parse_formula(FORMULA, allow_no_random=True), d)
    assert len(design.rows) == len(d)
    residual = mf.AR1("occ", "Subject") & mf.VarIdent("grp")
    bound = residual.bind(d.iloc[design.rows].reset_index(drop=True), reference_groups(design))
    return ResidualCriterion(engine_terms(design), design.X, design.y, bound.model)


def _dense(
    d: pd.DataFrame, phi: float, ratios: dict[str, float], reml: bool
) -> tuple[float, np.ndarray, np.ndarray]:
    """−2ℓ, β̂ and their SEs with V / σ² = G + D R(φ) D per subject (G the ar1 term's relative
    to σ², D the stratum's ratio, R = φ^|j−k|)."""
    s, rho = THETA
    lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    G = s**2 * rho**lag
    X, XVX, XVy, yVy, logdet = whitened_sums(d, G, phi, lambda g: ratios[str(g["grp"].iloc[0])])
    beta = np.linalg.solve(XVX, XVy)
    rss = yVy - XVy @ beta
    n, p = X.shape
    m = n - p if reml else n
    value = m * (1 + math.log(2 * math.pi * rss / m)) + logdet
    if reml:
        value += np.linalg.slogdet(XVX)[1]
    se = np.sqrt(np.diag(np.linalg.inv(XVX)) * rss / m)
    return float(value), beta, se


CASES = [("v1", False, -0.2), ("c29 swapped", True, 0.4)]


@pytest.mark.parametrize(("case", "reml", "phi"), CASES)
def test_dense_switch_continuous_and_exact(case: str, reml: bool, phi: float) -> None:
    d = _data(case)
    crit = _criterion(d)
    part = crit.model.variance
    labels, ref = part.labels, part.reference
    other = next(label for i, label in enumerate(labels) if i != ref)
    u = phi / math.sqrt(1 - phi**2)
    values = {}
    for r in ABOVE + BELOW:
        at = np.array([u, math.log(r)])
        x = np.concatenate([THETA, at])
        assert (crit.dense_at(at) is not None) == (r in BELOW)  # the switch at 1e-6
        value = crit.objective(x, reml)
        sol = crit.solution(x, crit.factor_at(at), reml)
        expected, beta, se = _dense(d, phi, {labels[ref]: 1.0, other: r}, reml)
        assert abs(value - expected) < 5e-9, r  # QR above (~1e-9 there), dense below
        np.testing.assert_allclose(sol.beta, beta, rtol=1e-9, atol=1e-12)
        sol_se = np.sqrt(np.diag(sol.vcov_unscaled)) * sol.sigma
        np.testing.assert_allclose(sol_se, se, rtol=1e-9)
        values[r] = value
    # continuous across the switch: the two sides 2e-15 apart in δ agree to the QR's rounding
    assert abs(values[1e-6 * (1 + EPS)] - values[1e-6 * (1 - EPS)]) < 5e-9
    assert criterion.DENSE_BELOW == 1e-6
