"""Which fit a residual search reports (issue 12, lane lows' findings, session 15).

``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")`` on set e3 of tests/reference/edge_interior (R's supremum at the edge
φ → 1: edge_interior_e3.json, from edge_interior.R there).

1. Near an edge φ → ±1 the whitened criterion degrades (rv20's m3: −2ℓ −59.26 at φ = 0.9993,
   −0.0496 by the dense blocks), and :func:`.multistart.restarted` compared its restarts with
   the fit's whitened value: no restart could beat it. It now compares a near-edge point by the
   larger of the two (:func:`.multistart.value`).
2. Where :func:`.edge.edge_check` flags a fit (an edge above it, not reported), the fit from the
   edge's optimum moved inside (``edge._towards``) that ends above the fit is reported (it was
   dropped: only its ℓ was named).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from test_residual_edge_flat import REF, _inputs

from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual import edge, multistart
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.engine.residual.edge import edge_check
from mixedfit.engine.residual.fit import _fit_one
from mixedfit.engine.reterm import ThetaLayout


@pytest.fixture(scope="module")
def e3() -> dict[str, Any]:
    """e3's inputs, a fit_one, the dense criterion and two 1-evaluation fits: ``near`` at
    φ = 0.9993 (θ × 0.7) and ``inner`` at φ = 0.98, higher by the dense criterion."""
    terms, X, y, model, start = _inputs("e3")
    reml = start["reml"]
    theta, phi = np.array(start["theta"]), np.array(start["phi"])

    def fit_one(m: Any, x0: np.ndarray, budget: int) -> Any:
        n = len(x0) - m.size
        return _fit_one(terms, X, y, m, reml, phi_start=x0[n:], theta_start=x0[:n],
                        max_evals=budget, gradient=False)  # fmt: skip

    layout = ThetaLayout(tuple(terms))
    span = _spanning(layout)
    assert span is not None
    dense = DenseResidual(layout, X, y, span, model)

    def judge(fit: Any) -> float:
        return float(dense.objective(np.concatenate([fit.theta, fit.phi]), reml))

    u_near = 0.9993 / math.sqrt(1 - 0.9993**2)
    near = fit_one(model, np.concatenate([0.7 * theta, [u_near], phi[1:]]), 1)
    inner = fit_one(model, np.concatenate([theta, [5.0], phi[1:]]), 1)
    return dict(terms=terms, X=X, y=y, model=model, fit_one=fit_one, judge=judge,
                near=near, inner=inner)  # fmt: skip


def test_restarts_compare_a_near_edge_fit_by_the_dense_criterion(e3: dict[str, Any]) -> None:
    """A fit at φ = 0.9993 whose whitened value is below every restart's (as m3's, by 59) but
    whose dense value is above an interior restart's: the restart is chosen (main: the fit)."""
    near, inner, judge = e3["near"], e3["inner"], e3["judge"]
    assert multistart.inside(inner, ThetaLayout(tuple(e3["terms"])))
    assert judge(inner) < judge(near) - 1.0  # inner is the higher by the dense criterion
    bogus = replace(near, objective=inner.objective - 10.0)  # the degraded whitened value
    assert multistart.value(bogus, judge) == pytest.approx(judge(near), rel=1e-12)
    assert multistart.value(inner, judge) == inner.objective  # inside: its own criterion

    def fit_one(m: Any, x0: np.ndarray, budget: int) -> Any:
        return inner  # every restart ends at the interior fit

    out = multistart.restarted(bogus, e3["terms"], fit_one, 100_000, judge)
    assert out.phi[0] == inner.phi[0] and out.objective == inner.objective
    assert out.record.start == "mirror"
    # without the dense criterion (main's comparison) the bogus value wins
    kept = multistart.restarted(bogus, e3["terms"], fit_one, 100_000)
    assert kept.objective == bogus.objective


def test_flagged_edge_reports_the_higher_fit_found_inside(
    e3: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fit at φ = 0.9 (θ × 0.7, 1 evaluation: neither converged nor run up to an edge, so
    not settled) is flagged for the edge φ = 1 (R's supremum, named); ``_towards`` ends at
    ``inner`` (φ = 0.98), above the fit and below the edge: it is reported, flagged (main: the
    fit, ℓ 20 lower)."""
    terms, X, y, model = e3["terms"], e3["X"], e3["y"], e3["model"]
    ref = json.loads((REF / "edge_interior_e3.json").read_text())
    inner, judge = e3["inner"], e3["judge"]
    start = json.loads((REF / "e3_start.json").read_text())
    theta, phi = np.array(start["theta"]), np.array(start["phi"])
    u = 0.9 / math.sqrt(1 - 0.81)
    fit = e3["fit_one"](model, np.concatenate([0.7 * theta, [u], phi[1:]]), 1)
    assert judge(inner) < judge(fit) - 1.0 and not fit.record.converged
    monkeypatch.setattr(edge, "_towards", lambda *a: inner)
    out = edge_check(fit, terms, X, y, fit.record.evaluations + 4_000, e3["fit_one"])
    assert out.boundary is None or not out.boundary.startswith("φ = 1")  # not at the edge
    np.testing.assert_array_equal(out.phi, inner.phi)  # main: the fit's
    np.testing.assert_array_equal(out.theta, inner.theta)
    assert not out.record.converged
    text = out.record.message
    named = re.search(r"\(ℓ = (-?[0-9.]+) there.* against (-?[0-9.]+) at φ = ([0-9.]+)", text)
    assert named is not None, text
    assert float(named.group(1)) == pytest.approx(ref["edge_free_loglik"], abs=1e-6)  # R's
    assert float(named.group(2)) == pytest.approx(-judge(inner) / 2, abs=1e-6)
    assert float(named.group(3)) == pytest.approx(5.0 / math.sqrt(26.0), abs=1e-6)
