"""AR1(by=): a maximum with the reference stratum vanishing and another group's φ inside (issue 12).

rv21's h8 (REML): main reported the edge φ_b = 1 at ℓ −26.8868476 (−26.8981349 with b the
reference: the label order changed ℓ); R's dense by= multistart (by_dense.R, 13 starts) finds
−26.740053224 (1 start of 13) with stratum a's residual sd 8e-7 and φ_b = 0.652 inside
(tests/reference/cov_by_ar1/README.md, h8). The partial refits (one stratum's σ → 0) ran only at
the σ → 0 limit; they now run for a by= fit inside too (engine/residual/partial.py). A whole fit
is ~20 s CPU, so the tests rebuild the fit state main handed to that stage (h8_point.json) and run
the stage alone (~2–4 s).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.optimize import OptimizerRecord
from mixedfit.engine.residual import ResidualFit
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.fit import _fit_one
from mixedfit.engine.residual.partial import partial_retry
from mixedfit.engine.residual.structure import ResidualModel
from mixedfit.exceptions import MixedFitWarning
from mixedfit.model.fit import engine_terms

REF = Path(__file__).parent / "reference" / "cov_by_ar1"
R = json.loads((REF / "h8_by_REML.json").read_text())
POINT = json.loads((REF / "h8_point.json").read_text())
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"


@pytest.mark.parametrize("order", ["abc", "zbc"])
def test_partial_refit_reaches_r_maximum_inside(order: str) -> None:
    """Both label orders (a the reference; a renamed "z", b the reference) reach R's maximum, a
    named vanished; the stage returned the fit unchanged (ℓ −26.8986, 0.159 below R)."""
    d = pd.read_csv(REF / "h8.csv")
    if order == "zbc":
        d["grp"] = d["grp"].replace({"a": "z"})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MixedFitWarning)  # one evaluation: only the design
        shell = mf.lmer(
            FORMULA, d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"), max_evals=1
        )
    design, model = shell._design, shell._engine.model
    terms, X, y = engine_terms(design), design.X, design.y - design.offset
    point = POINT[order]
    x = np.asarray(point["x"])
    m = len(x) - model.size
    crit = ResidualCriterion(terms, X, y, model)
    factor = crit.factor_at(x[m:])
    objective = crit.reported(x, factor, True)
    assert objective == pytest.approx(point["objective"], abs=1e-7)
    record = OptimizerRecord("bobyqa", point["evaluations"], objective, x, x, None, True, "", 0.0)
    mask = None if point["vanished"] is None else np.asarray(point["vanished"], dtype=bool)
    state = ResidualFit(x[:m], x[m:], objective, True, record, crit.solution(x, factor, True),
                        factor, model, vanished=mask)  # fmt: skip

    def fit_one(other: ResidualModel, x0: np.ndarray, budget: int, watch: bool = False):  # type: ignore[no-untyped-def]
        n = len(x0) - other.size
        return _fit_one(
            terms, X, y, other, True, phi_start=x0[n:], theta_start=x0[:n], max_evals=budget,
            gradient=False, watch=watch,
        )  # fmt: skip

    out = partial_retry(state, terms, X, y, fit_one, 100_000, ["Subject"])
    assert -out.objective / 2 == pytest.approx(R["best"], abs=1e-6)
    gone = "a" if order == "abc" else "z"
    assert out.boundary is not None and f"stratum '{gone}'" in out.boundary
    assert out.record.evaluations > point["evaluations"]  # the refits' evaluations counted
