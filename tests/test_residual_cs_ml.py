"""CompoundSymmetry under ML with few largest subjects (issue 12, lane csml; reviewer rv25 HIGH-1).

With K subjects of the largest size M and K ≤ the rank of their summed [Z X] columns, any y's
subject sums are fitted by those columns (interpolation, not a property of the data): csrho's
check refused such ML fits (30 subjects × 4 visits + 2 with a 5th; 20 × 3 + 1 × 4), which nlme fits
normally at an interior ρ. Now only a non-trivial exact fit (K > that rank) is refused, under ML
as under REML. R: ``tests/reference/cov_cs_ml/cs_ml.R`` (nlme gls / lme; the by= fit by the dense
criterion of ``limit_df/sat_dense.R``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "cov_cs_ml"
R = json.loads((REF / "cs_ml.json").read_text())


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(REF / f"{name}.csv")
    d["t"] = d["t"].astype(str)
    return d


CS = mf.CompoundSymmetry
FITS: dict[str, Callable[[pd.DataFrame], object]] = {
    "gls_ML": lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g"), reml=False),
    "gls_REML": lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g")),
    "lme_site_ML": lambda d: mf.lmer("y ~ x + arm + t + (1|site)", d, residual=CS("g"), reml=False),
    "varident_ML": lambda d: mf.gls(
        "y ~ x + arm + t", d, residual=CS("g") & mf.VarIdent("arm"), reml=False
    ),
    "by_arm_ML": lambda d: mf.gls("y ~ x + arm + t", d, residual=CS("g", by="arm"), reml=False),
    "small_ML": lambda d: mf.gls("y ~ x", d, residual=CS("g"), reml=False),
}


@pytest.mark.parametrize("name", list(FITS))
def test_few_largest_subjects_fit_as_r(name: str) -> None:
    """Regression: the ML fits (2 subjects of 5 rows among 30; in by= each arm's one largest
    subject; 1 of 4 rows among 21) raised MixedFitError "fitted exactly"; now R's ℓ and ρ."""
    d = _data("extra_visit1" if name == "small_ML" else "extra_visit2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = FITS[name](d)
    ref = R[name]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)  # type: ignore[attr-defined]
    params = fit.residual.params  # type: ignore[attr-defined]
    if name == "by_arm_ML":
        assert params["A:Rho"] == pytest.approx(ref["rho_A"], abs=1e-4)
        assert params["B:Rho"] == pytest.approx(ref["rho_B"], abs=1e-4)
        assert params["A"] == pytest.approx(ref["ratio_A"], abs=1e-4)
    else:
        assert params["Rho"] == pytest.approx(ref["rho"], abs=1e-4)
    if name == "varident_ML":
        assert params["A"] == pytest.approx(ref["ratio_A"], abs=1e-4)
