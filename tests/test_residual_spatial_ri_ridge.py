"""A ``(1 | id) + Spatial`` fit short of nlme's on a flat ridge warns (issue 12, the
ConvergenceWarning "max|scaled gradient| = 0.00868" of bound2's "lin A=1e7 s2", re-checked).

The random intercept trades with the exponential correlation's sill far out in the range
(tests/reference/spatial_ri_ridge/make_ri_ridge.R). mixedfit stops at range 3.3e5 with ℓ
−572.5776159, 2.7e-5 below nlme's nlminb fit (range 1.4e6); a profile of the criterion rises on
to ~−572.5775822 near range 9e6. The warning is genuine, not a false alarm: this test guards
that a fit short of nlme's does not pass silently (it passes too once the fit reaches nlme).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "spatial_ri_ridge"
REF = json.loads((HERE / "ri_ridge.json").read_text())


def test_short_of_nlme_warns() -> None:
    d = pd.read_csv(HERE / "ri_ridge.csv")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ t + (1 | id)", d, residual=mf.Spatial("x", "id"))
    warned = [w for w in seen if issubclass(w.category, ConvergenceWarning)]
    assert fit.loglik == pytest.approx(REF["nlminb_loglik"], abs=1e-4)
    if fit.loglik < REF["nlminb_loglik"] - 1e-7:
        assert warned and not fit.converged
