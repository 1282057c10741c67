"""AR1(by=): the edge from the restarts' near-edge optimum, the check cut by max_evals said, a
vanished reference group named at an edge (issue 12, lane h3ws), against R's dense criterion
(tests/reference/cov_by_ar1/by_dense.R, h3w_by_REML.json).

h3w with y + 1e3 (REML): main reported ℓ 20.4153141 as converged (BoundaryWarning only), R's best
20.4916727918 (reached unshifted). Its restarts had found R's mode (ℓ 20.4916693, φ_1 → 1, φ_b in
its other mode) as the near-edge optimum, which the by= edge check ignored, and 97,643 of the
100,000 evaluations were spent before the check, which then cut its edges and mirrors short
silently. h3r ('0' the reference): the edge φ_1 = +1 at R's ℓ with '0''s sd 2e-5 of the largest
(R: '0''s sd 7e-8) was not named vanished, so the relabelled refit ran on and the fit ended with a
budget ConvergenceWarning.

The states are main's (h3ws_states.json, make_h3ws_states.py on main bdd127d); each test replays
one stage on the design built without a fit (a whole fit is ~50 s CPU).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from by_ar1_design import design_parts

from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.residual import ResidualFit
from mixedfit.engine.residual.by_edge import _vanished_named, by_edge_check
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.engine.residual.relabel import relabelled
from mixedfit.engine.residual.vanished import held_strata
from mixedfit.engine.reterm import ThetaLayout

REF = Path(__file__).parent / "reference" / "cov_by_ar1"
STATES = json.loads((REF / "h3ws_states.json").read_text())
R_H3W = json.loads((REF / "h3w_by_REML.json").read_text())


def _fit(state: dict[str, Any], model: Any) -> ResidualFit:
    """A fit record at a stored state (its criterion as stored; no factor or solution: the
    stages replayed read neither)."""
    theta, phi = np.asarray(state["theta"]), np.asarray(state["phi"])
    x = np.concatenate([theta, phi])
    record = OptimizerRecord(
        "bobyqa", state["evaluations"], state["objective"], x, x, None, state["converged"], "", 0.0
    )
    gone = None if state["vanished"] is None else np.asarray(state["vanished"], dtype=bool)
    return ResidualFit(
        theta, phi, state["objective"], True, record, None, None, model, vanished=gone,  # type: ignore[arg-type]
    )  # fmt: skip


def _case(case: str) -> tuple[ResidualFit, list[Any], np.ndarray, np.ndarray]:
    state = STATES[case]
    d = pd.read_csv(REF / state["csv"])
    d["y"] += state["shift"]
    terms, X, y, model = design_parts(d, True)
    fit = _fit(state, model)
    if state["near_edge"] is not None:
        near = _fit(state["near_edge"], model)
        fit = ResidualFit(
            fit.theta, fit.phi, fit.objective, True, fit.record, None, None, model,  # type: ignore[arg-type]
            vanished=fit.vanished, near_edge=near,
        )  # fmt: skip
    return fit, terms, X, y


@pytest.fixture(scope="module")
def shifted() -> tuple[ResidualFit, list[Any], np.ndarray, np.ndarray]:
    return _case("h3w_shift")


def test_h3w_shift_edge_from_the_restarts_near_edge_reaches_r(shifted: Any) -> None:
    """Was ℓ 20.4153141, converged: the near-edge optimum ignored, the edges cut silently. Now the
    edge φ_1 = +1 from it reaches R's best; the edges and mirrors the 2,357 evaluations left could
    not run are said (unconverged, raise max_evals)."""
    fit, terms, X, y = shifted
    checked = by_edge_check(fit, terms, X, y, 100_000)
    loglik = -checked.objective / 2
    assert loglik >= R_H3W["best"] - 1e-7
    assert loglik == pytest.approx(R_H3W["best"], abs=1e-7)
    assert checked.boundary is not None and "group '1' (by=) = 1" in checked.boundary
    assert not checked.record.converged
    assert "cut by the budget" in checked.record.message
    assert (
        "max_evals=100000" in checked.record.message and "raise max_evals" in checked.record.message
    )


def test_by_edge_check_without_budget_is_not_converged(shifted: Any) -> None:
    """No evaluation left for the check: the fit is not reported converged (was, silently)."""
    fit, terms, X, y = shifted
    checked = by_edge_check(fit, terms, X, y, fit.record.evaluations + 1)
    assert -checked.objective / 2 == pytest.approx(-fit.objective / 2, abs=1e-12)
    assert not checked.record.converged
    assert "group '1''s edge φ = 1" in checked.record.message
    assert "raise max_evals" in checked.record.message


def test_h3r_vanished_reference_named_at_the_edge_and_not_relabelled() -> None:
    """'0' (the reference) at 2e-5 of the largest sd at the edge φ_1 = +1 (R: 7e-8 vs ~0.02) is
    named vanished (was unnamed), and the fit is not refitted with another reference (the refit
    ran on and spent the budget)."""
    fit, terms, X, y = _case("h3r_edge")
    assert fit.vanished is None
    layout = ThetaLayout(tuple(terms))
    span = _spanning(layout)
    assert span is not None
    dense = DenseResidual(layout, X, y, span, fit.model)
    edge = ResidualFit(
        fit.theta, fit.phi, fit.objective, True, fit.record, None, None, fit.model,  # type: ignore[arg-type]
        boundary="φ of group '1' (by=) = 1",
    )  # fmt: skip
    named = _vanished_named(edge, dense)
    assert named.vanished is not None
    assert held_strata(named.model, len(named.theta), named.vanished, named.phi) == ["0"]
    assert named.boundary is not None and "stratum '0'" in named.boundary
    assert "the reference stratum among them" in named.boundary
    assert named.objective == fit.objective
    assert -named.objective / 2 == pytest.approx(R_H3W["best"], abs=1e-7)

    def refit(_: Any) -> ResidualFit:
        raise AssertionError("the relabelled refit ran")

    kept = relabelled(named, terms, X, y, refit, (), 100_000)
    assert kept is named
