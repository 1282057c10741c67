"""A plain AR(1)'s edge check cut by ``max_evals`` flags the fit (issue 12, lane lows29).

Session 18 (lane h3ws) made the ``by=`` edge check report a fit unconverged where the budget
skipped or cut an edge's optimization; the plain AR(1)'s :func:`~mixedfit.engine.residual.edge.
edge_check` still returned the fit as it was ("converged") when no evaluation was left for its
edges, and when the budget cut them short below the fit. Now it says which edge the budget left
unchecked and to raise ``max_evals`` (a ConvergenceWarning through the fit's record).

Data: Oxboys with rows missing (tests/reference/cov_oxboys), ``height ~ age + ar1(0 + occf |
Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject")``, REML; the fit is placed at R's
maximum (tests/reference/cov_rar1_interior, dense criterion, ℓ −301.4826025, φ = 0.99961: its
edges are lower, φ → 1 a ridge at −301.4895), one evaluation, then the edge check alone.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine.residual.edge import edge_check
from mixedfit.engine.residual.fit import _fit_one
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

HERE = Path(__file__).parent / "reference"
R = json.loads((HERE / "cov_rar1_interior" / "rar1_interior.json").read_text())
FORMULA = "height ~ age + ar1(0 + occf | Subject, hom=False)"


@pytest.fixture(scope="module")
def at_r() -> tuple[Any, list[Any], np.ndarray, np.ndarray]:
    """The fit at R's maximum (marked converged, as the stages before the check leave it)."""
    d = pd.read_csv(HERE / "cov_oxboys" / "oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    design = build_design(parse_formula(FORMULA), d)
    frame = d.iloc[design.rows].reset_index(drop=True)
    model = mf.AR1("occ", "Subject").bind(frame).model
    terms, X, y = engine_terms(design), design.X, design.y - design.offset
    theta = np.concatenate([R["s"], [R["rho"]]])
    fit = _fit_one(terms, X, y, model, True, theta_start=theta, phi_start=np.array([R["u"]]),
                   max_evals=1)  # fmt: skip
    assert -fit.objective / 2 == pytest.approx(R["loglik"], abs=1e-8)
    fit = replace(fit, record=replace(fit.record, converged=True, message=""))
    return fit, terms, X, y


def test_no_budget_left_for_the_edges_is_not_converged(at_r: Any) -> None:
    """No evaluation left for the check: the fit is not reported converged (was, silently)."""
    fit, terms, X, y = at_r
    out = edge_check(fit, terms, X, y, fit.record.evaluations + 1)
    assert out.objective == fit.objective and out.boundary is None
    assert not out.record.converged
    message = out.record.message
    assert message.startswith("the check of the AR(1) residual correlation's edges φ = ±1 was cut")
    assert "both edges not run" in message
    assert f"max_evals={fit.record.evaluations + 1}" in message and "raise max_evals" in message


def test_edges_cut_below_the_fit_flag_it(at_r: Any) -> None:
    """Both edges cut by the budget (20 evaluations each), ending below the fit: the fit stays
    R's maximum, flagged unconverged naming both edges (was returned converged, silently)."""
    fit, terms, X, y = at_r
    out = edge_check(fit, terms, X, y, fit.record.evaluations + 40)
    assert -out.objective / 2 == pytest.approx(R["loglik"], abs=1e-8)
    assert out.boundary is None and out.phi[0] == fit.phi[0]
    assert not out.record.converged
    assert "(the edge φ = 1, the edge φ = −1 not run or unfinished" in out.record.message
    assert out.record.evaluations <= fit.record.evaluations + 40
