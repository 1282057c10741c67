"""AR1(by=) (SAS GROUP=) against R's dense criterion on rv21's three-strata data (issue 12).

The by= model contains ``AR1 & VarIdent(grp)`` (every group's φ equal), so its maximum is at least
the nested model's −16.6192941 (tests/reference/cov_by_ar1/README.md). mixedfit's criterion agrees
with R's dense one at both points, and its by= fit reaches R's maximum (was −16.7144, the other
local optimum). The fit costs ~40,000 evaluations (~25 s; the nested model's costs as much).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.model.fit import engine_terms
from mixedfit.model.residual import ResidualModelFit

REF = Path(__file__).parent / "reference" / "cov_by_ar1"
R = json.loads((REF / "h16_by_REML.json").read_text())
POINTS = json.loads((REF / "h16_points.json").read_text())
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"


@pytest.fixture(scope="module")
def fit() -> ResidualModelFit:
    d = pd.read_csv(REF.parent / "cov_vi_relabel" / "h16_bca.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the vanished strata's BoundaryWarning
        return mf.lmer(FORMULA, d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))


def _x(fit: ResidualModelFit, point: dict) -> np.ndarray:
    """The point (absolute sds, levels a, b, c) as the engine's x = (θ, u per group, log ratios):
    σ is the reference stratum's sd, θ the term's sds / σ and its ρ."""
    model = fit._engine.model
    levels = ["a", "b", "c"]
    rsd = dict(zip(levels, point["rsd"], strict=True))
    phi = dict(zip(levels, point["phi"], strict=True))
    ref = next(g for g in levels if g not in model.variance.names)
    sigma = rsd[ref]
    theta = [s / sigma for s in point["sd"]] + [point["rho"]]
    u = [
        phi[g.split(":")[0]] / np.sqrt(1 - phi[g.split(":")[0]] ** 2)
        for g in model.correlation.names
    ]
    ratios = [np.log(rsd[g] / sigma) for g in model.variance.names]
    return np.array([*theta, *u, *ratios])


@pytest.mark.parametrize("point", ["by", "nested"])
def test_by_criterion_is_r_dense_one(fit: ResidualModelFit, point: str) -> None:
    """mixedfit's by= criterion at its own fit's point and at the nested optimum (every φ equal)."""
    design = fit._design
    crit = ResidualCriterion(
        engine_terms(design), design.X, design.y - design.offset, fit._engine.model
    )
    loglik = -crit.objective(_x(fit, POINTS[point]), True) / 2
    assert loglik == pytest.approx(R["at"][point]["dense"], abs=1e-7)


def test_by_fit_reaches_r_maximum(fit: ResidualModelFit) -> None:
    """Was −16.7143978 (φ_a +0.846, the other local optimum), 0.095 below R's by= maximum: the AR(1)
    restarts (multistart.py) were AR1Part's only and the relabel refit VarIdent's only."""
    assert fit.loglik >= R["best"] - 1e-6
    assert fit.residual.params["a:Phi"] == pytest.approx(R["best_point"]["phi"][0], abs=1e-3)
