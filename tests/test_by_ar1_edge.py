"""AR1(by=) with a group's φ at ±1 (SAS GROUP=; issue 12, lane byedge), against R's dense criterion.

On rv21's h3 (REML) the by= fit ran φ_b to −0.999 and φ_c to 0.9998 and stopped 3.0e-4 in ℓ below
R's supremum, which is at the edges φ_b = −1, φ_c = 1 (tests/reference/cov_by_ar1/README.md); no
edge check judged a by= group's φ (edge.py tested a plain AR(1) only). The fit is now reported at
both edges (engine/residual/by_edge.py), with a BoundaryWarning naming the groups, and its
inference holds those two φ (the third group's free). One fit, ~50,000 evaluations (~20 s CPU).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual.edge_fit import edge_slots
from mixedfit.exceptions import BoundaryWarning
from mixedfit.inference.residual_varpar import _unprofiled
from mixedfit.model.residual import ResidualModelFit

REF = Path(__file__).parent / "reference" / "cov_by_ar1"
R = json.loads((REF / "h3_by_REML.json").read_text())
R_HELD = json.loads((REF / "h3_by_REML_hold_bm1_c1.json").read_text())
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"


@pytest.fixture(scope="module")
def fitted() -> tuple[ResidualModelFit, list[str]]:
    d = pd.read_csv(REF / "h3.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
    return fit, [str(w.message) for w in caught if issubclass(w.category, BoundaryWarning)]


def test_by_fit_reaches_r_supremum_at_the_groups_edges(
    fitted: tuple[ResidualModelFit, list[str]],
) -> None:
    """Was −8.5345848 (φ_b −0.99900, φ_c 0.99979, flagged by its Hessian only)."""
    fit, _ = fitted
    assert fit.loglik >= R["best"] - 1e-6
    assert fit.loglik == pytest.approx(R_HELD["best"], abs=1e-6)
    params = fit.residual.params
    assert params["b:Phi"] == -1.0 and params["c:Phi"] == 1.0
    assert params["a:Phi"] == pytest.approx(R_HELD["best_point"]["phi"][0], abs=1e-3)


def test_by_edge_warning_names_the_groups(fitted: tuple[ResidualModelFit, list[str]]) -> None:
    _, texts = fitted
    assert any("group 'c' (by=) is at its bound" in t and "'b' (φ = -1)" in t for t in texts)


def test_by_edge_inference_holds_the_edge_groups_only(
    fitted: tuple[ResidualModelFit, list[str]],
) -> None:
    """The df's ψ holds φ_b and φ_c (as a θ on its bound), φ_a free; the df finite."""
    fit, _ = fitted
    engine = fit._engine
    assert list(edge_slots(engine.model, engine.phi)) == [1, 2]
    un = _unprofiled(fit)
    n_theta = len(engine.theta)
    assert list(un.held[1 + n_theta : 1 + n_theta + 3]) == [False, True, True]
    assert np.all(np.isfinite(fit.coef_table()["df"].to_numpy()))
