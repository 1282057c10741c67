"""Inference on a VarIdent fit whose stratum variance vanished at the supremum (review rv9).

van2.csv (tests/reference/cov_probe/make_van2.py): stratum C has no residual noise, the REML
supremum has its variance 0; the boundary probe leaves δ_C at its floor with a BoundaryWarning.
Satterthwaite df hold C at its boundary (as lme4 drops a θ on its bound); R's dense computation
with δ_C = 0 exactly: van2_sat.R / van2_sat.json; with a residual AR(1) too (the free fit ends at
δ_C ≈ 3e-7, its Hessian from the QR of the whitened rows): van2_ar1_sat.R / van2_ar1_sat.json.
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

REF = Path(__file__).parent / "reference" / "cov_probe"
FORMULA = "y ~ stratum + x + (1|subject)"


def _fit(scale: float = 1.0) -> ResidualModelFit:
    df = pd.read_csv(REF / "van2.csv")
    df["y"] = df["y"] * scale
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, df, residual=mf.VarIdent("stratum"))
    boundary = [str(w.message) for w in seen if w.category is BoundaryWarning]
    assert boundary and "C" in boundary[0]
    return fit


@pytest.fixture(scope="module")
def van2() -> ResidualModelFit:
    return _fit()


def test_satterthwaite_df_match_dense_r_with_c_at_zero(van2: ResidualModelFit) -> None:
    ref = json.loads((REF / "van2_sat.json").read_text())
    table = van2.coef_table(ddf="satterthwaite")
    assert list(table.index) == ref["terms"]
    np.testing.assert_allclose(table["estimate"], ref["beta"], rtol=1e-4)
    np.testing.assert_allclose(table["std_error"], ref["se"], rtol=5e-4)
    # δ_C sits at its floor (4e-4), not at 0: the df differ from R's by < 0.1 %
    np.testing.assert_allclose(table["df"], ref["df"], rtol=2e-3)


def test_tidy_emmeans_kenward_roger_give_finite_df(van2: ResidualModelFit) -> None:
    tidy = van2.tidy()
    assert np.isfinite(tidy.loc[tidy["effect"] == "fixed", "df"]).all()
    emm = van2.emmeans("stratum")
    assert np.isfinite(emm["df"]).all() and (emm["df"] > 1).all()
    kr = van2.coef_table(ddf="kenward-roger")
    assert np.isfinite(kr["df"]).all()


def test_df_do_not_depend_on_the_units_of_y(van2: ResidualModelFit) -> None:
    scaled = _fit(1e4)
    np.testing.assert_allclose(
        scaled.coef_table(ddf="satterthwaite")["df"],
        van2.coef_table(ddf="satterthwaite")["df"],
        rtol=2e-3,
    )
    np.testing.assert_allclose(
        scaled.emmeans("stratum")["df"], van2.emmeans("stratum")["df"], rtol=2e-3
    )


def _vanishing(first: str) -> pd.DataFrame:
    df = pd.read_csv(REF / "vanishing.csv")
    order = df.assign(o=df["stratum"] != first).sort_values(["subject", "o"], kind="stable")
    return order.drop(columns="o").reset_index(drop=True)


def _van2(first: str) -> pd.DataFrame:
    df = pd.read_csv(REF / "van2.csv")
    order = df.assign(o=df["stratum"] != first).sort_values(["o"], kind="stable")
    return order.drop(columns="o").reset_index(drop=True)


@pytest.mark.parametrize(
    ("formula", "data", "first", "reml"),
    [
        (FORMULA, _van2, "A", True),
        (FORMULA, _van2, "C", True),
        (FORMULA, _van2, "A", False),
        ("y ~ stratum + (1 | subject)", _vanishing, "A", True),
        ("y ~ stratum + (1 | subject)", _vanishing, "C", False),
    ],
)
def test_save_load_round_trip_of_a_probed_boundary_fit(
    formula: str, data: object, first: str, reml: bool, tmp_path: Path
) -> None:
    assert callable(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        fit = mf.lmer(formula, data(first), residual=mf.VarIdent("stratum"), reml=reml)
    path = tmp_path / "fit.mfit"
    fit.save(path)
    loaded = mf.load_fit(path)
    assert loaded.loglik == fit.loglik
    assert dict(loaded.residual.params) == dict(fit.residual.params)


def test_profile_intervals_name_the_vanished_stratum(van2: ResidualModelFit) -> None:
    with pytest.raises(mf.MixedFitError, match=r"stratum 'C' vanished.*method='wald'"):
        van2.confint(method="profile")
    with pytest.raises(mf.MixedFitError, match="stratum 'C' vanished"):
        van2.profile()


def _van2_ar1(order: str) -> pd.DataFrame:
    df = pd.read_csv(REF / "van2.csv")
    df["pos"] = df.stratum.map({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5})
    if order == "C first":
        return pd.concat([df[df.stratum == "C"], df[df.stratum != "C"]]).reset_index(drop=True)
    return df


@pytest.mark.parametrize("order", ["as written", "C first"])
def test_ar1_varident_df_hold_the_vanished_stratum(order: str) -> None:
    """C first: C is nlme's reference (σ → 0, the other ratios → ∞); the df are taken referred
    to a kept stratum (the same df in any parameterization); both raised before."""
    ref = json.loads((REF / "van2_ar1_sat.json").read_text())
    residual = mf.AR1("pos", "subject") & mf.VarIdent("stratum")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, _van2_ar1(order), residual=residual)
    boundary = [str(w.message) for w in seen if w.category is BoundaryWarning]
    assert boundary and "stratum 'C'" in boundary[0]
    table = fit.coef_table(ddf="satterthwaite")  # raised "not positive definite" before
    assert list(table.index) == ref["terms"]
    np.testing.assert_allclose(table["estimate"], ref["beta"], rtol=1e-5)
    np.testing.assert_allclose(table["std_error"], ref["se"], rtol=1e-5)
    np.testing.assert_allclose(table["df"], ref["df"], rtol=1e-4)
    if order == "C first":
        with pytest.raises(mf.MixedFitError, match=r"reference stratum.*vanished.*satterthwaite"):
            fit.coef_table(ddf="kenward-roger")


def test_df_with_the_vanished_stratum_as_the_reference() -> None:
    """VarIdent alone with C (vanished) nlme's reference: df referred to a kept stratum, as with
    A first (raised before: Φ's derivatives in σ² → 0 were lost to rounding)."""
    ref = json.loads((REF / "van2_sat.json").read_text())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, _van2("C"), residual=mf.VarIdent("stratum"))
    assert any(w.category is BoundaryWarning for w in seen)
    assert fit.residual.params["C"] == 1.0  # C is the reference
    table = fit.coef_table(ddf="satterthwaite")
    np.testing.assert_allclose(table["std_error"], ref["se"], rtol=1e-4)
    np.testing.assert_allclose(table["df"], ref["df"], rtol=1e-4)
