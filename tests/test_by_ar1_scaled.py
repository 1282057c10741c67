"""AR1(by=) with y in other units: BOBYQA's stop does not depend on them (issue 12, lane h1sc).

rv28's h1 with y × 1e-3 (REML, ``ar1(0 + occf | Subject, hom=False)`` beside
``AR1("occ", "Subject", by="grp")``): main reported ℓ 1020.58702703174, converged, 2.44e-4 below
R's maximum −1.76051012047844 + (n − p)·ln 1e3 (the unscaled fit reaches it to 3.6e-8), with
stratum a's residual sd 2.3 % of c's where R's vanishes. Its first BOBYQA run had stopped on
ftol_rel 1e-13·|−2ℓ|: 2e-10 at −2ℓ ≈ −2041, against ftol_abs's 1e-12 at −2ℓ ≈ 3.5 unscaled. The
residual fits now stop on ftol_abs alone (:data:`mixedfit.engine.residual.fit.FTOL_REL`). A whole
fit is ~40 s CPU, so the test replays the state main handed to the partial refits
(h1_scaled_point.json: make_h1_scaled_point.py) through one watched-free ``_fit_one`` with a
budget of 2,000 evaluations: main's stops on the spot (+2.9e-7), the fix climbs towards R's
maximum (by_dense.R's multistart, h1_scaled_by_REML.json).
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
from mixedfit.engine.residual.fit import _fit_one
from mixedfit.exceptions import MixedFitWarning
from mixedfit.model.fit import engine_terms

REF = Path(__file__).parent / "reference" / "cov_by_ar1"
R = json.loads((REF / "h1_scaled_by_REML.json").read_text())
POINT = json.loads((REF / "h1_scaled_point.json").read_text())
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"


def test_scaled_fit_goes_on_past_a_relative_stop() -> None:
    """From main's stopping point (R's dense ℓ there 2.44e-4 below R's maximum) 2,000
    evaluations gain more than 5e-5 and stay below R's maximum; main's gained 2.9e-7."""
    d = pd.read_csv(REF / "h1_scaled.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MixedFitWarning)  # one evaluation: only the design
        shell = mf.lmer(
            FORMULA, d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"), max_evals=1
        )
    design, model = shell._design, shell._engine.model
    terms, X, y = engine_terms(design), design.X, design.y - design.offset
    x = np.asarray(POINT["x"])
    m = len(x) - model.size
    crit = ResidualCriterion(terms, X, y, model)
    at = -crit.reported(x, crit.factor_at(x[m:]), True) / 2
    assert at == pytest.approx(R["at"]["fit"]["dense"], abs=1e-8)  # R's criterion at the point
    assert R["best"] - at > 2e-4  # the state main stopped at, short of R's maximum
    out = _fit_one(
        terms, X, y, model, True, phi_start=x[m:], theta_start=x[:m], max_evals=2_000,
        gradient=False,
    )  # fmt: skip
    reached = -out.objective / 2
    assert reached - at > 5e-5
    assert reached < R["best"] + 1e-8
