"""A VarIdent reference stratum's vanishing tail crawled and stopped on at a moderate ratio
(issue 12, review rv20 Q1 and Q4b).

``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")``, REML, on rv15's ar1vi seeds 16 and 7 (notes/rv15/data/plain_<seed>.csv,
grp = a for an even subject number; data tests/reference/cov_rar1_reftail/s16.csv, s7.csv). R's
references s16_REML.json, s7_REML.json: tests/reference/cov_rar1_stress/dense_stress3.R (the
model's criterion written densely, a wide multistart, both edges φ → ±1 and the σ → 0 limit),
``Rscript ../cov_rar1_stress/dense_stress3.R specs.json s16 .`` in that directory. R's maximum is
interior on the "vanished reference" tail: stratum a's (nlme's reference) residual variance → 0
(σ → 0, ratio b → ∞, b's sd σ·δ_b fixed; R stops at ratio b ~1.6e4).

Before (main 03dc37d): seed 16 ℓ −20.039783087 (ratio b 30.3, σ 6.5e-4), 8.2e-4 below R's
−20.0389585254, NO warning; seed 7 ℓ 3.504110717 (ratio b 16.1), 0.0104 below R's 3.5145424282,
only "maximum number of evaluations reached". The ratios were below every tail threshold
(:func:`.rereference.reference_vanished`'s 1e3, the watch's 1e2). Now the fit is continued with
the largest stratum as the reference (:func:`.rereference.reference_tail`), reaches R's supremum
to 1e-6 and names the vanished reference stratum a (BoundaryWarning).

Seed 16's fit also carries its Satterthwaite and Kenward–Roger df (review rv21 F2, session 15
lane dfref; moved here from tests/test_residual_df_order.py, which fitted the same data again:
tests/reference/cov_vi_order/s16.csv is this s16.csv).
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
from mixedfit.exceptions import BoundaryWarning

HERE = Path(__file__).parent / "reference" / "cov_rar1_reftail"
SAT = json.loads((HERE.parent / "cov_vi_order" / "sat.json").read_text())
RTOL = 2e-4  # R's numDeriv and ours, each in its own parameterization (as test_residual_df_order)
_FITS: dict[str, tuple[Any, list[warnings.WarningMessage], dict[str, Any]]] = {}


def _fit(case: str) -> tuple[Any, list[warnings.WarningMessage], dict[str, Any]]:
    ref = json.loads((HERE / f"{case}_REML.json").read_text())
    d = pd.read_csv(HERE / f"{case}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    return fit, seen, ref


@pytest.fixture(scope="module")
def fitted() -> Any:
    """(fit, its warnings, R's reference) of a case, each fitted once in this module."""

    def get(case: str) -> tuple[Any, list[warnings.WarningMessage], dict[str, Any]]:
        if case not in _FITS:
            _FITS[case] = _fit(case)
        return _FITS[case]

    return get


@pytest.mark.parametrize("case", ["s16", "s7"])
def test_reaches_r_supremum_on_reference_tail(fitted: Any, case: str) -> None:
    fit, seen, ref = fitted(case)
    assert ref["where"] == "interior" and ref["best"] == ref["interior"]
    # the supremum is approached (R's own point is at ratio ~1.6e4): reached to 1e-6 in ℓ
    assert fit.loglik == pytest.approx(ref["best"], abs=1e-6)
    assert fit.loglik <= ref["best"] + 1e-6
    assert float(fit.residual.params["Phi"]) == pytest.approx(ref["interior_phi"], abs=1e-3)
    assert float(fit.residual.params["b"]) > 1e3  # b's ratio ran out with σ → 0
    named = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    assert any("stratum 'a'" in m and "reference stratum" in m for m in named), named


def test_s16_satterthwaite_df_match_r(fitted: Any) -> None:
    """Review rv21 F2 on its REML analogue (tests/test_residual_df_order.py's table): with
    stratum a, the reference, vanishing (σ 1.3e-5) the df were NaN by the σ → 0 limit's rule;
    they are R's dense Satterthwaite df (tests/reference/cov_vi_order/sat.json, a's variance
    held at exactly 0), without a warning."""
    fit, _, _ = fitted("s16")
    ref = SAT["s16"]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        table = fit.coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(table["df"].to_numpy(), ref["df"], rtol=RTOL)
    np.testing.assert_allclose(table["std_error"].to_numpy(), ref["se"], rtol=1e-5)
    assert not [str(w.message) for w in seen]


def test_s16_kenward_roger_with_the_reference_vanished(fitted: Any) -> None:
    """REML seed 16 with stratum a, the reference, vanishing: Kenward–Roger applies (refused
    before as at the σ → 0 limit); for one coefficient its df are Satterthwaite's (mmrm's
    formulas), here R's dense df."""
    fit, _, _ = fitted("s16")
    table = fit.coef_table(ddf="kenward-roger")
    np.testing.assert_allclose(table["df"].to_numpy(), SAT["s16"]["df"], rtol=RTOL)
    assert np.all(table["std_error"].to_numpy() > SAT["s16"]["se"])
