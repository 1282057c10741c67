"""relabel's refit reported at an AR(1) edge is kept, at that edge in the written labels (issue 12,
review rv24 MEDIUM-1; ``engine/residual/relabel.py``, its ``at_edge``).

Three strata, ML seed 15, c the reference (``reference/cov_vi_relabel/g15_cab.csv``): R's dense
multistart (``g15_cab_ML.json``, dense3g.R) has its supremum at the edge φ = +1, ℓ
−6.02020012724762, stratum c (the reference) vanishing; the label orders abc and bca reach it with
the φ-edge BoundaryWarning. Before, order cab reported ℓ −6.0202024633 at φ 0.99999926 as an
interior estimate (2.34e-6 short) whatever the budget: the refit with a as the reference reached
R's value at φ = 1 but was refused for ending at an AR(1) edge. At the default max_evals
(100,000) the first fit (68,293 evaluations) leaves the refit too little; the fit is then reported
unconverged with the budget's ConvergenceWarning (:mod:`.budget`), so the fit is given 140,000.

That fit costs ~60 s of CPU (the first fit and the refit, ~30 s each). Since session 17 (lane
trimB) the test runs ``lmer`` with its two fits stored (``g15_cab_points.json``, written by
``make_g15_points.py`` from that very fit: each fit's point, criterion and optimizer record) and
rebuilt at their points: ``fit_residual`` is replaced by its last stage,
``relabelled(fit, ..., refit)`` with ``refit`` returning the stored refit (with_largest's model),
then ``budget.exhausted``. Everything after the two fits runs: relabel's gate, ``at_edge`` (the
refit's edge mapped back, its θ polished, the edge model's criterion attained) and the model's
warnings. On the code before (a4010e8^ without ``at_edge``) the stored fit itself is reported:
ℓ 2.34e-6 below R's, no φ-edge BoundaryWarning.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
import mixedfit.residual_api as residual_api
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.residual import relabel
from mixedfit.engine.residual.budget import exhausted
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.edge_fit import edge_model, factor_phi, hold_factor
from mixedfit.engine.residual.result import ResidualFit
from mixedfit.engine.residual.structure import ResidualModel
from mixedfit.engine.reterm import ReTerm
from mixedfit.exceptions import BoundaryWarning

REF = Path(__file__).parent / "reference" / "cov_vi_relabel"
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"
TOL = 1e-6  # ℓ against R's supremum (before: 2.34e-6 short)
MAX_EVALS = 140_000


def _rebuilt(
    stored: dict[str, Any], model: ResidualModel, terms: list[ReTerm], X: np.ndarray, y: np.ndarray
) -> ResidualFit:
    """The stored fit at its point x = (θ, φ) of ``model``: its criterion and record as stored,
    β̂ and the factor from the point (the dense blocks, as an edge fit's)."""
    theta = np.asarray(stored["theta"], dtype=float)
    phi = np.asarray(stored["phi"], dtype=float)
    crit = ResidualCriterion(terms, X, y, model)
    factor = crit.factor_at(factor_phi(model, phi))
    hold_factor(factor, theta, factor.layout)
    dense = edge_model(terms, X, y, model, phi)
    assert dense is not None
    done = dense.solution(theta, False, None)
    assert done is not None
    r = stored["record"]
    record = OptimizerRecord(
        r["method"],
        r["evaluations"],
        r["objective"],
        np.asarray(r["x"], dtype=float),
        np.asarray(r["x_start"], dtype=float),
        None,
        r["converged"],
        r["message"],
        0.0,
        r["start"],
    )
    vanished = None if stored["vanished"] is None else np.asarray(stored["vanished"], dtype=bool)
    return ResidualFit(
        theta,
        phi,
        stored["objective"],
        False,
        record,
        done[0],
        factor,
        model,
        None,
        stored["boundary"],
        vanished=vanished,
    )


def test_refit_at_the_edge_is_reported_at_the_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    r = json.loads((REF / "g15_cab_ML.json").read_text())
    assert r["where"] == "edge+1"
    points = json.loads((REF / "g15_cab_points.json").read_text())
    assert points["fit"]["objective"] > -2 * r["best"] + 2 * TOL  # the first fit: short of R
    refits: list[int] = []

    def last_stage(
        terms: list[ReTerm], X: np.ndarray, y: np.ndarray, model: ResidualModel, reml: bool,
        **kwargs: Any,
    ) -> ResidualFit:  # fmt: skip
        """fit_residual's relabel stage on the stored whole fit (fit.py's last line)."""
        assert not reml and kwargs["max_evals"] == MAX_EVALS
        fit = _rebuilt(points["fit"], model, terms, X, y)
        assert model.variance.reference == points["fit"]["reference"]  # c, the written one

        def refit(other: ResidualModel) -> ResidualFit:
            refits.append(other.variance.reference)
            return _rebuilt(points["second"], other, terms, X, y)

        names = kwargs["names"]
        return exhausted(relabel.relabelled(fit, terms, X, y, refit, names, MAX_EVALS), MAX_EVALS)

    monkeypatch.setattr(residual_api, "fit_residual", last_stage)
    d = pd.read_csv(REF / "g15_cab.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            FORMULA,
            d,
            reml=False,
            max_evals=MAX_EVALS,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    assert refits == [points["second"]["reference"]]  # the refit ran, with a the reference
    assert fit.loglik == pytest.approx(r["best"], abs=TOL)
    assert fit.residual.params["Phi"] == 1.0  # at the edge, not an interior estimate
    bounds = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    assert any("φ = 1" in t for t in bounds)
    assert fit.optimizer.evaluations <= MAX_EVALS
