"""Satterthwaite df at a tiny *interior* VarIdent ratio (review rv10 HIGH-4).

Stratum B's residual sd is 7.5e-5 … 9.3e-4 of the reference's at a genuine interior optimum (no
BoundaryWarning; the criterion rises as δ_B → 0). The df used to hold every stratum below
2·FLOOR of the largest at its boundary, as a vanished one: B's and x's df came out ~2× too
large (none4 117 vs 59; ar13 100, 114 vs 58.5, 63; ri_ar14 84, 80 vs 59.6, 31.8). A tiny ratio
is now held only where the criterion still falls towards 0 (residual_varpar._Unprofiled.
_vanished). R: dense unprofiled REML deviance from the QR of the whitened rows, numDeriv
Hessian and Jacobian of Var(β̂) (tests/reference/cov_probe/tiny_sat_gls.R for the GLS,
tiny_sat.R with the random intercept; data tiny_*.csv from rv10).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.covariance.base import ResidualStructure
from mixedfit.exceptions import BoundaryWarning

REF = Path(__file__).parent / "reference" / "cov_probe"
CASES = {
    "none4": ("y ~ stratum + x", "tiny_sat_gls.json"),
    "ar13": ("y ~ stratum + x", "tiny_sat_gls.json"),
    "ri_ar14": ("y ~ stratum + x + (1|subject)", "tiny_sat.json"),
}


def _residual(name: str) -> ResidualStructure:
    if name == "none4":
        return mf.VarIdent("stratum")
    return mf.AR1("t", "subject") & mf.VarIdent("stratum")


@pytest.mark.parametrize("order", ["as given", "shuffled"])
@pytest.mark.parametrize("name", list(CASES))
def test_satterthwaite_df_at_a_tiny_interior_ratio_match_dense_r(name: str, order: str) -> None:
    formula, source = CASES[name]
    ref = json.loads((REF / source).read_text())[name]
    data = pd.read_csv(REF / f"tiny_{name}.csv")
    if order == "shuffled":
        data = data.sample(frac=1, random_state=7).reset_index(drop=True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = (mf.lmer if "|" in formula else mf.gls)(formula, data, residual=_residual(name))
    assert not [w for w in seen if w.category is BoundaryWarning]  # an interior optimum
    table = fit.coef_table(ddf="satterthwaite")
    assert list(table.index) == ref["terms"]
    np.testing.assert_allclose(table["std_error"], ref["se"], rtol=1e-4)
    np.testing.assert_allclose(table["df"], ref["df"], rtol=1e-3)
    kr = fit.coef_table(ddf="kenward-roger")
    assert np.isfinite(kr["df"]).all()
