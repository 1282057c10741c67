"""tidy() rows of a residual structure's parameters (issue 12): ran_pars, group "Residual",
``cor__`` + label for the correlation structure, ``varfun__`` + label for the variance function,
after σ; values against nlme (tests/reference/tidy/structure_tidy.json, its R script next to it,
which also holds broom.mixed's tidy of the same lme fit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_residual_api import load

import mixedfit as mf

REF = json.loads((Path(__file__).parent / "reference" / "tidy" / "structure_tidy.json").read_text())


def residual_rows(table: pd.DataFrame) -> pd.Series:
    rows = table[(table["effect"] == "ran_pars") & (table["group"] == "Residual")]
    return pd.Series(rows["estimate"].to_numpy(), index=rows["term"].tolist())


def test_lme_ar1_and_varident_rows_match_nlme() -> None:
    o = load("orthodont.csv")
    ref = REF["ri_ar1_varident"]
    fit = mf.lmer(
        "distance ~ Sex * age_c + (1 | Subject)",
        o,
        residual=mf.AR1("occ", "Subject") & mf.VarIdent("Sex"),
    )
    table = fit.tidy()
    rows = residual_rows(table)
    assert rows.index.tolist() == [
        "sd__Observation", "cor__Phi", *[f"varfun__{k}" for k in fit.residual.params.index[1:]]
    ]  # fmt: skip
    assert rows["sd__Observation"] == pytest.approx(ref["sigma"], rel=1e-4)
    assert rows["cor__Phi"] == pytest.approx(ref["Phi"], rel=1e-3, abs=1e-4)
    broom = {r["term"]: r["estimate"] for r in ref["broom"] if r["effect"] == "var_model"}
    assert broom == pytest.approx(ref["varident"])
    for level, value in ref["varident"].items():
        assert rows[f"varfun__{level}"] == pytest.approx(value, rel=1e-4)
    # the random intercept's row as before, and std.error NaN as broom.mixed's ran_pars
    sd_subject = table[(table["group"] == "Subject")]["estimate"].iloc[0]
    broom_sd = next(r["estimate"] for r in ref["broom"] if r["term"] == "sd_(Intercept)")
    assert sd_subject == pytest.approx(broom_sd, rel=1e-4)
    assert table[table["effect"] == "ran_pars"]["std.error"].isna().all()


def test_gls_cs_and_varpower_rows_match_nlme() -> None:
    o = load("orthodont.csv")
    ref = REF["gls_cs_power"]
    fit = mf.gls(
        "distance ~ Sex * age_c", o, residual=mf.CompoundSymmetry("Subject") & mf.VarPower("age")
    )
    rows = residual_rows(fit.tidy(effects="ran_pars"))
    assert rows.index.tolist() == ["sd__Observation", "cor__Rho", "varfun__power"]
    np.testing.assert_allclose(
        rows.to_numpy(), [ref["sigma"], ref["Rho"], ref["power"]], rtol=1e-3, atol=1e-4
    )
    vcov = residual_rows(fit.tidy(effects="ran_pars", scales="vcov"))  # only σ changes scale
    assert vcov.index.tolist() == ["var__Observation", "cor__Rho", "varfun__power"]
    assert vcov.iloc[0] == pytest.approx(rows.iloc[0] ** 2)
    np.testing.assert_array_equal(vcov.iloc[1:], rows.iloc[1:])


def test_unstructured_splits_correlations_and_sd_ratios() -> None:
    o = load("orthodont.csv")
    fit = mf.gls("distance ~ Sex * age_c", o, residual=mf.Unstructured("agef", "Subject"))
    rows = residual_rows(fit.tidy(conf_int=True))
    params = fit.residual.params
    cors = [k for k in params.index if k.startswith("cor(")]
    ratios = [k for k in params.index if not k.startswith("cor(")]  # sd ratios by time level
    assert len(cors) == 6 and ratios == [str(a) for a in o["agef"].cat.categories]
    assert rows.index.tolist() == [
        "sd__Observation", *[f"cor__{k}" for k in cors], *[f"varfun__{k}" for k in ratios]
    ]  # fmt: skip
    np.testing.assert_array_equal(rows.iloc[1:], params.to_numpy())


def test_by_groups_and_saved_fits_keep_the_rows(tmp_path: Path) -> None:
    o = load("orthodont.csv")
    fit = mf.gls("distance ~ Sex * age_c", o, residual=mf.Toeplitz("agef", "Subject", by="Sex"))
    rows = residual_rows(fit.tidy())
    assert rows.index[1:].tolist() == [
        *[f"cor__{g}:Rho{k}" for g in ("Male", "Female") for k in (1, 2, 3)],
        "varfun__Male",
        "varfun__Female",
    ]
    path = tmp_path / "fit.json"
    fit.save(path)
    again = residual_rows(mf.load_fit(path).tidy())
    pd.testing.assert_series_equal(again, rows)


def test_ordinary_fits_have_no_structure_rows() -> None:
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    assert residual_rows(fit.tidy()).index.tolist() == ["sd__Observation"]
