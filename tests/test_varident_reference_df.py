"""Satterthwaite df of a VarIdent fit whose *reference* stratum's variance vanished (issue 12).

vanished_reference.csv (tests/reference/cov_varident_reference): stratum A's residual variance is
0 at the supremum; with A's rows first A is nlme's reference (σ → 0, the other ratios → ∞). The df
raised there ("the Hessian ... is not positive definite"): holding log σ² gave wrong df. Now ψ is
referred to another stratum, where A is an ordinary vanished ratio held at its boundary. R's
dense computation with A's variance exactly 0: vanished_reference_sat.R / .json.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import BoundaryWarning
from mixedfit.model.residual import ResidualModelFit

HERE = Path(__file__).parent / "reference" / "cov_varident_reference"
REF = json.loads((HERE / "vanished_reference_sat.json").read_text())


def _fit(first: str, reml: bool) -> ResidualModelFit:
    df = pd.read_csv(HERE / "vanished_reference.csv")
    rank = {first: 0, **{g: i + 1 for i, g in enumerate(sorted({"A", "B", "C"} - {first}))}}
    df = df.assign(o=df["stratum"].map(rank)).sort_values(["subject", "o"]).drop(columns="o")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        return mf.lmer(
            "y ~ stratum + (1 | subject)", df, reml=reml, residual=mf.VarIdent("stratum")
        )


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_satterthwaite_df_with_the_reference_stratum_vanished(method: str) -> None:
    ref = REF[method]
    fit = _fit("A", method == "reml")
    assert fit.residual.params["A"] == 1.0 and fit.residual.params["B"] > 100  # A the reference
    table = fit.coef_table(ddf="satterthwaite")
    assert list(table.index) == ref["terms"]
    np.testing.assert_allclose(table["estimate"], ref["beta"], rtol=1e-6)
    np.testing.assert_allclose(table["std_error"], ref["se"], rtol=1e-4)
    # δ_A sits at its floor (2e-4 of the largest sd), not at 0: as van2 (< 0.1 %)
    np.testing.assert_allclose(table["df"], ref["df"], rtol=1e-3)
    # the same model with B the reference (A an ordinary vanished ratio) agrees
    other = _fit("B", method == "reml").coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(table["df"], other["df"], rtol=1e-3)
    emm = fit.emmeans("stratum", ddf="satterthwaite")
    assert np.isfinite(emm["df"]).all()


def test_kenward_roger_with_the_reference_stratum_vanished() -> None:
    """Refused before (session 10); now computed with ψ referred to a kept stratum (an affine
    change of KR's log-sd τ: Φ_A unchanged). R: mmrm's formulas densely with v_A = 0 exactly
    (vanished_reference_kr.R)."""
    ref = json.loads((HERE / "vanished_reference_kr.json").read_text())
    table = _fit("A", True).coef_table(ddf="kenward-roger")
    assert list(table.index) == ref["terms"]
    # δ_A sits at its floor (2e-4 of the largest sd), not at 0 (as the Satterthwaite df above)
    np.testing.assert_allclose(table["std_error"], ref["se_kr"], rtol=1e-5)
    np.testing.assert_allclose(table["df"], ref["df"], rtol=1e-3)
    other = _fit("B", True).coef_table(ddf="kenward-roger")  # A an ordinary vanished ratio
    np.testing.assert_allclose(table["std_error"], other["std_error"], rtol=1e-6)
