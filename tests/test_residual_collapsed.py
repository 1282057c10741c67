"""The residual criterion collapsed to visit patterns (``engine/residual/collapsed.py``): with one
random-effects term per subject whose Z rows are a function of the structure's keys, the
profiled criterion is computed from pattern statistics alone. It must equal the blocked factor's
criterion on A(φ) (the fast path it replaces in the optimizer) and the whitening path, and be used
exactly where it applies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit.covariance as cov
from mixedfit.design import build_design
from mixedfit.engine.residual import ResidualCriterion
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms


def simulated(n_sub: int = 60, n_vis: int = 5, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sid = np.repeat(np.arange(n_sub), n_vis)
    time = np.tile(np.arange(1, n_vis + 1), n_sub)
    df = pd.DataFrame(
        {
            "id": [f"s{i:03d}" for i in sid],
            "site": [f"c{i % 7}" for i in sid],
            "time": time,
            "visit": pd.Categorical([f"v{t}" for t in time]),
            "trt": np.repeat(rng.integers(0, 2, n_sub), n_vis),
        }
    )
    df["y"] = (
        1 + 0.3 * df["time"] + np.repeat(rng.normal(size=n_sub), n_vis) + rng.normal(size=len(df))
    )
    return df[rng.random(len(df)) > 0.2].reset_index(drop=True)  # missed visits: many patterns


def build(formula: str, df: pd.DataFrame, struct: cov.ResidualStructure, fast: bool = True):
    d = build_design(parse_formula(formula, allow_no_random=True), df)
    model = struct.bind(df.iloc[d.rows].reset_index(drop=True)).model
    return ResidualCriterion(engine_terms(d), d.X, d.y - d.offset, model, fast=fast)


CASES = [
    ("y ~ time * trt + (1 | id)", cov.AR1("time", "id")),
    ("y ~ time + (time | id)", cov.AR1("time", "id")),
    ("y ~ time * trt + (1 | id)", cov.AR1("time", "id", heterogeneous=True)),
    ("y ~ visit + (1 | id)", cov.CompoundSymmetry("id")),
    ("y ~ time + (1 | id)", cov.CAR1("time", "id") & cov.VarIdent("visit")),
    ("y ~ time + (1 | id)", cov.Toeplitz("visit", "id")),
]


@pytest.mark.parametrize(("formula", "struct"), CASES)
def test_collapsed_equals_the_factor_criterion(formula: str, struct) -> None:
    df = simulated()
    crit = build(formula, df, struct)
    slow = build(formula, df, struct, fast=False)
    assert crit.collapsed is not None
    rng = np.random.default_rng(1)
    base = np.concatenate([np.zeros(crit.n_theta), crit.model.start()])
    for reml in (True, False):
        for _ in range(5):
            x = base + rng.normal(0.0, 0.4, len(base))
            x[: crit.n_theta] = np.abs(x[: crit.n_theta]) + 0.2
            theta, phi = crit.split(x)
            via_factor = crit.fast_factor_at(phi).objective(theta, reml)
            assert crit.objective(x, reml) == pytest.approx(via_factor, rel=1e-10)
            assert crit.objective(x, reml) == pytest.approx(slow.objective(x, reml), rel=1e-10)


def test_theta_at_zero_and_repeated_phi() -> None:
    df = simulated()
    crit = build("y ~ time + (time | id)", df, cov.AR1("time", "id"))
    x = np.concatenate([np.zeros(crit.n_theta), [0.5]])
    theta, phi = crit.split(x)
    expected = crit.fast_factor_at(phi).objective(theta, True)
    assert crit.objective(x, True) == pytest.approx(expected, rel=1e-10)
    assert crit.objective(x, True) == crit.objective(x.copy(), True)  # the cached Λ_P⁻¹


@pytest.mark.parametrize(
    "formula",
    ["y ~ time + (1 | site)", "y ~ time + (1 | id) + (1 | site)", "y ~ time"],
)
def test_not_used_when_it_does_not_apply(formula: str) -> None:
    """A grouping coarser than the subject, two terms, or none: the factor path."""
    df = simulated()
    df["id"] = df["site"] + ":" + df["id"]  # subjects nested in sites
    crit = build(formula, df, cov.AR1("time", "id"))
    assert crit.collapsed is None
