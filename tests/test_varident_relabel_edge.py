"""A vanishing VarIdent reference followed to the AR(1) edge φ = 1 at the default budget, and
relabel's refit reported at an edge mapped back (issue 12, review rv24 MEDIUM-1).

Three strata, ML seed 15, c the reference (``reference/cov_vi_relabel/g15_cab.csv``): R's dense
multistart (``g15_cab_ML.json``, dense3g.R) has its supremum at the edge φ = +1, ℓ
−6.02020012724762, stratum c (the reference) vanishing; the label orders abc and bca reach it with
the φ-edge BoundaryWarning. On main (session 16) order cab's fit reached the partial limit c → 0
at φ 0.99999926 (ℓ −6.0202024633, 2.34e-6 short), and its edge check started the edges from θ
alone scaled back (the fit's start still read "σ → 0 limit"), which ran out of evaluations far
below; only relabel's refit (a the reference, :func:`.relabel.at_edge`) reached the edge, and at
the default max_evals (100,000) it lacked the budget: ℓ 2.34e-6 short with a budget
ConvergenceWarning. Now the edge check starts from the point moved back along the reference's
tail (:func:`.edge._edge_start`) and reports R's edge at ~73,000 evaluations; the refit is not
run (:func:`.relabel.alone_at_edge`). ``at_edge``'s mapping of a refit's edge optimum (another
reference) back to the written labels is exercised on the same fit: the reported edge referred
to a, mapped back from the fit before its edge check. One fit (about 35 s of CPU; it replaces a
140,000-evaluation fit of 70–80 s), in conftest.SLOW_FIRST.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import fit as residual_fit
from mixedfit.engine.residual import relabel
from mixedfit.engine.residual.edge_fit import EDGE_PHI
from mixedfit.engine.residual.partial import referred
from mixedfit.engine.reterm import ThetaLayout
from mixedfit.exceptions import BoundaryWarning, ConvergenceWarning

REF = Path(__file__).parent / "reference" / "cov_vi_relabel"
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"
TOL = 1e-6  # ℓ against R's supremum (before: 2.34e-6 short)


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    """The fit at the default max_evals, its warnings, and what the engine's edge check and
    relabel were given (the fit before the edge check; the refits run)."""
    d = pd.read_csv(REF / "g15_cab.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    seen: dict[str, Any] = {"refits": 0}
    check, label = residual_fit.edge_check, residual_fit.relabelled

    def edge_spy(fit: Any, terms: Any, X: Any, y: Any, *rest: Any) -> Any:
        seen["inner"] = (fit, terms, X, y)
        return check(fit, terms, X, y, *rest)

    def relabel_spy(fit: Any, terms: Any, X: Any, y: Any, refit: Any, *rest: Any) -> Any:
        def counted(model: Any) -> Any:
            seen["refits"] += 1
            return refit(model)

        seen["edge"] = fit
        return label(fit, terms, X, y, counted, *rest)

    residual_fit.edge_check, residual_fit.relabelled = edge_spy, relabel_spy
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seen["fit"] = mf.lmer(
                FORMULA,
                d,
                reml=False,
                residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
            )
    finally:
        residual_fit.edge_check, residual_fit.relabelled = check, label
    seen["warnings"] = list(caught)
    seen["r"] = json.loads((REF / "g15_cab_ML.json").read_text())
    return seen


def test_vanishing_reference_reaches_the_edge_at_the_default_budget(
    fitted: dict[str, Any],
) -> None:
    r, fit = fitted["r"], fitted["fit"]
    assert r["where"] == "edge+1"
    assert fit.loglik == pytest.approx(r["best"], abs=TOL)
    assert fit.residual.params["Phi"] == 1.0  # at the edge, not an interior estimate
    bounds = [str(w.message) for w in fitted["warnings"] if issubclass(w.category, BoundaryWarning)]
    assert any("φ = 1" in t for t in bounds), bounds
    said = [str(w.message) for w in fitted["warnings"] if w.category is ConvergenceWarning]
    assert not said, said  # (BoundaryWarning is a ConvergenceWarning)
    assert fit.optimizer.converged
    assert fit.optimizer.evaluations <= 100_000
    assert fitted["refits"] == 0  # reached by the fit's own edge check: no refit


def test_refit_at_the_edge_is_mapped_back(fitted: dict[str, Any]) -> None:
    """:func:`.relabel.at_edge`: the edge optimum of a refit with a as the reference, reported
    at φ = 1 in the written labels (c the reference, vanishing), R's value."""
    inner, terms, X, y = fitted["inner"]
    edge = fitted["edge"]
    assert abs(float(inner.phi[0])) < EDGE_PHI  # the fit before its edge check: inside
    layout = ThetaLayout(tuple(terms))
    there = relabel.with_largest(inner.model, inner.record.theta, layout, relabel.RELABEL_RATIO)
    assert there is not None
    other, back = there
    part = other.variance
    x = np.concatenate([edge.theta, edge.phi])
    _, z, _ = referred(edge.model, x, layout, part.reference)  # the edge, a the reference
    m = len(edge.theta)
    record = replace(edge.record, theta=z)
    second = replace(edge, model=other, theta=z[:m], phi=z[m:], record=record)
    mapped = relabel.at_edge(inner, second, back, terms, X, y, 2_000)
    assert mapped is not None
    assert mapped.model is inner.model  # the written labels: c the reference
    assert mapped.phi[0] == EDGE_PHI
    assert -mapped.objective / 2 == pytest.approx(fitted["r"]["best"], abs=TOL)
    assert mapped.boundary is not None and "stratum 'c'" in mapped.boundary


def test_edge_gate_needs_the_fit_run_up_to_that_edge(fitted: dict[str, Any]) -> None:
    """:func:`.relabel.edge_alone` / :func:`.relabel.alone_at_edge`: the refit is skipped at the
    edge the fit before its check ran up to (here +1, c alone vanished), not where that fit was
    inside (``toep`` ML 3 ab: a vanished at φ 0.81, the edge −1 reported, the refit's interior
    optimum 1.0e-3 higher in ℓ) nor at the other edge."""
    inner, edge = fitted["inner"][0], fitted["edge"]
    assert relabel.edge_alone(inner) == 1.0
    assert relabel.alone_at_edge(edge, relabel.edge_alone(inner))
    assert not relabel.alone_at_edge(edge, -1.0)
    phi = inner.phi.copy()
    phi[0] = 1.0  # φ 0.71: inside
    assert relabel.edge_alone(replace(inner, phi=phi)) == 0.0
