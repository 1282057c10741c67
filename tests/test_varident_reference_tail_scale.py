"""The vanished VarIdent reference's tail followed past a refit's vanished verdict (issue 12,
review rv28 MEDIUM; ``mixedfit/engine/residual/rereference.py``, ``_followed``).

s7 of tests/reference/cov_rar1_reftail/ (``y ~ x + ar1(0 + occf | Subject, hom=False)`` with
``AR1("occ", "Subject") & VarIdent("grp")``, REML; tests/test_varident_reference_crawl.py) with
y × 1e-3: R's maximum is interior far out on stratum a's (the reference's) vanishing tail, ratio
b/a 15,083. The refit with b the reference (:func:`.rereference.reference_tail`) stopped at
1,124: BOBYQA's relative ftol scales with |−2ℓ|, which y's units shift by 2(n − p) ln k (−2051
here, −7 unscaled, where the fit reached 8,718). Its vanished verdict (the flat rule: one step
÷10 towards 0 lowers −2ℓ) ended the tail's following there, ℓ 2.07e-6 below R's. A ratio named
vanished by the flat rule (not held at the probe's floor) is now followed while the tail falls by
more than 1e-6 (:data:`.rereference.TAIL_GAIN`, absolute on −2ℓ: the same in any units).

The whole fit is ~8 s CPU: the test rebuilds the fit main handed to reference_tail
(s7_div_point.json, make_s7_div_point.py) and runs that stage alone.
"""

from __future__ import annotations

import json
import math
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
from mixedfit.engine.residual.rereference import reference_tail
from mixedfit.engine.residual.structure import ResidualModel
from mixedfit.exceptions import MixedFitWarning
from mixedfit.model.fit import engine_terms

HERE = Path(__file__).parent / "reference" / "cov_rar1_reftail"
R = json.loads((HERE / "s7_REML.json").read_text())
POINT = json.loads((HERE / "s7_div_point.json").read_text())


def test_tail_followed_past_a_named_ratio_in_any_units() -> None:
    k = POINT["scale"]
    d = pd.read_csv(HERE / "s7.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    d["y"] *= k
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MixedFitWarning)  # one evaluation: only the design
        shell = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
            max_evals=1,
        )
    design, model = shell._design, shell._engine.model
    terms, X, y = engine_terms(design), design.X, design.y - design.offset
    x = np.asarray(POINT["x"])
    m = len(x) - model.size
    crit = ResidualCriterion(terms, X, y, model)
    factor = crit.factor_at(x[m:])
    objective = crit.reported(x, factor, True)
    assert objective == pytest.approx(POINT["objective"], abs=1e-7)
    assert POINT["vanished"] is None
    record = OptimizerRecord("bobyqa", POINT["evaluations"], objective, x, x, None, True, "", 0.0)
    state = ResidualFit(x[:m], x[m:], objective, True, record, crit.solution(x, factor, True),
                        factor, model)  # fmt: skip

    def fit_one(other: ResidualModel, x0: np.ndarray, budget: int, watch: bool = False):  # type: ignore[no-untyped-def]
        n = len(x0) - other.size
        return _fit_one(
            terms, X, y, other, True, phi_start=x0[n:], theta_start=x0[:n], max_evals=budget,
            gradient=False, watch=watch,
        )  # fmt: skip

    out = reference_tail(state, terms, X, y, 100_000, fit_one, ["Subject"])
    # ℓ with y × k: R's best − (n − p) ln k
    best = R["best"] - (len(d) - X.shape[1]) * math.log(k)
    assert -out.objective / 2 == pytest.approx(best, abs=1e-6)  # main: 2.07e-6 below
    assert -out.objective / 2 <= best + 1e-6
    assert out.record.converged
    assert out.boundary is not None and "stratum 'a'" in out.boundary
    deltas = np.exp(out.phi[1:])  # b's ratio (a the reference): past main's 1,124
    assert float(deltas[0]) > 5e3
