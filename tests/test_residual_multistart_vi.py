"""An AR(1) residual and VarIdent beside a structured term: the grid starts' VarIdent ratios
(issue 12, reviewer stress finding 1, its silent miss).

``y ~ x + ar1(0 + occf | Subject)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")``, ML, on the reviewer's case c29 (47 subjects, 6 visits, 10 % missing; data
tests/reference/cov_rar1_stress/c29.csv, R's reference c29_ML.json from dense_stress3.R there:
the model's criterion written densely, maximized from 34 screened starts, both edges φ → ±1 and
the σ → 0 limit; run ``Rscript dense_stress3.R specs_c29.json c29 .`` in that directory, about 5
minutes). Before (main at e233d39): ℓ −650.2097121 at a term sd 2.20σ, ρ 0.156, φ 0.097 and
stratum b's ratio 0.011, no warning, 0.258 below R's optimum: a small term with ρ → 1 (a
random intercept), ratio b 0.891, φ 0.111. Every grid start (multistart.grid_points) kept the
fit's ratio 0.011 and went back to the fit's mode; now the grid starts take the variance
function's start (ratios 1) and four of them reach R's optimum.
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
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "cov_rar1_stress"


@pytest.fixture(scope="module")
def c29() -> tuple[Any, list[warnings.WarningMessage], dict[str, Any]]:
    ref = json.loads((HERE / "c29_ML.json").read_text())
    d = pd.read_csv(HERE / "c29.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject)",
            d,
            reml=False,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    return fit, seen, ref


def test_c29_reaches_r_optimum(
    c29: tuple[Any, list[warnings.WarningMessage], dict[str, Any]],
) -> None:
    """R's interior optimum: ℓ, φ, the ratio, σ, β, the term's sd (R's relative sd × σ)."""
    fit, seen, ref = c29
    assert ref["best"] == ref["interior"]
    assert not [w for w in seen if w.category is ConvergenceWarning]
    assert fit.optimizer.converged
    assert fit.loglik == pytest.approx(ref["interior"], abs=1e-6)
    params = fit.residual.params
    assert float(params["Phi"]) == pytest.approx(ref["interior_phi"], abs=1e-4)
    assert float(params["a"]) == 1.0
    assert float(params["b"]) == pytest.approx(ref["interior_ratio"], abs=1e-4)
    assert fit.sigma == pytest.approx(ref["interior_fit"]["sigma"], rel=1e-5)
    assert np.asarray(fit.fixef) == pytest.approx(ref["interior_fit"]["beta"], abs=1e-5)
    sd = float(np.exp(ref["interior_par"][0])) * ref["interior_fit"]["sigma"]
    vc = fit.varcorr
    sds = vc.loc[(vc["var2"].fillna("") == "") & (vc["grp"] == "Subject"), "sdcor"].to_numpy(
        dtype=float
    )
    assert sds == pytest.approx(np.full(6, sd), rel=1e-4)


def test_c29_term_is_a_random_intercept(
    c29: tuple[Any, list[warnings.WarningMessage], dict[str, Any]],
) -> None:
    """R's ρ → 1 (atanh ρ 10.2): the term's correlation at +1, reported as a singular fit."""
    fit, seen, ref = c29
    assert np.tanh(ref["interior_par"][1]) == pytest.approx(1.0, abs=1e-8)
    assert fit.theta[1] == pytest.approx(1.0, abs=1e-6)
    assert any("correlation +1" in str(w.message) for w in seen)
