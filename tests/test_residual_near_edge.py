"""An optimum just inside the edge φ → 1 of an AR(1) residual beside a structured term (issue 12,
lane floor; data and R in tests/reference/cov_near_edge/).

The fit ended at a local optimum at φ = 0.999997 (ℓ −2586.9309, converged, no warning), 0.72
below R's maximum at φ = 0.9999927 (−2586.2095), which the first restart (the mirror) reached
but which was dropped (the same data with the term's sd 3,000: 1.44 below, the term at sd 0,
only a singular-fit warning): a restart ending at |φ| ≥ 0.99 counts as run up to an edge and
the edges are :mod:`mixedfit.engine.residual.edge`'s to judge, and the edge φ = 1 (−2587.8608)
is lower than both. The restarts now keep such an optimum (multistart._near_edge) and the edge check
reports it where it is above both edges and the fit. The expected values are R's dense
multistart and the numpy dense ℓ at the reported parameters (an exact independent computation).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from test_varident_stress_ll import FORMULA, _dense_loglik

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "cov_near_edge"


@pytest.mark.parametrize(
    "name", ["near_30000"]
)  # near_3000: tests/test_residual_near_edge_carried.py
def test_optimum_just_inside_the_edge_is_found(name: str) -> None:
    d = pd.read_csv(REF / f"{name}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            FORMULA, d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp")
        )
    r = json.loads((REF / f"{name}_R.json").read_text())
    assert abs(fit.loglik - r["best"]) < 1e-6  # was 0.7214 / 1.4447 below
    assert fit.loglik > r["edge+1"] + 1.0  # above the edge φ = 1
    assert abs(fit.loglik - _dense_loglik(d, fit)) < 1e-7
    phi = float(fit.residual.params["Phi"])
    assert abs(phi - r["interior_phi"]) < 1e-6
    assert abs(float(fit.residual.params["b"]) - r["interior_ratio"]) < 1e-3
    assert fit.converged
    assert not [w for w in seen if w.category is mf.ConvergenceWarning]
