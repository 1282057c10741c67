"""Satterthwaite and Kenward–Roger t and F tests (mixedfit.inference.ddf) against lmerTest and
pbkrtest: every "satterthwaite", "anova_type3_satterthwaite" and "kenward_roger" value of the
shared references (by position: R and formulaic name coefficients differ), plus values computed
with lmerTest 3.1.3 / pbkrtest 0.5.2 / lme4 1.1-31 for models the references lack (the R code
is next to each), and the contrast-string parser."""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fit_reference
from references import ESTIMATE_RTOL, EXTRA, SHARED, load_reference

import mixedfit as mf
from mixedfit.inference.contrasts import term_contrasts
from mixedfit.inference.ddf import (
    anova_type3,
    coef_table,
    kenward_roger,
    linear_test,
    satterthwaite,
)
from mixedfit.inference.hypotheses import parse_hypotheses
from mixedfit.inference.satterthwaite import _Criterion

# the module, not the function of the same name that a package may re-export
kr_module = importlib.import_module("mixedfit.inference.kenward_roger")

# ---- tolerances --------------------------------------------------------------------------------
SATT_RTOL = 1e-4  # Satterthwaite df, t, F and p (relative)
KR_RTOL = 1e-3  # Kenward–Roger df, adjusted SE, F and p (relative)
P_TINY, P_ATOL = 1e-10, 1e-12  # p-values below P_TINY: absolute tolerance P_ATOL instead

COEF_COLUMNS = ["estimate", "std_error", "df", "t", "p", "lower", "upper"]
ANOVA_COLUMNS = ["term", "numdf", "dendf", "F", "p"]


def _cases(field: str) -> list[Path]:
    """Shared reference cases that carry ``field``. The InstEval cases (73k rows) are included:
    their Satterthwaite derivatives take ~70 factor updates, a few seconds per fit."""
    return [path for path in SHARED if field in load_reference(path)]


def assert_p(ours: float, ref: float, rtol: float, what: str) -> None:
    if ref < P_TINY:
        assert abs(ours - ref) <= P_ATOL, f"{what}: {ours} vs {ref}"
    else:
        assert ours == pytest.approx(ref, rel=rtol), what


# ---- shared references ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", _cases("satterthwaite"), ids=lambda p: p.stem)
def test_satterthwaite_coefficients(path):
    ref, fit = fit_reference(path)
    table = coef_table(fit, ddf="satterthwaite")
    want = ref["satterthwaite"]
    assert len(table) == len(want["df"])
    for i, name in enumerate(want["df"]):
        row = table.iloc[i]
        assert row["df"] == pytest.approx(want["df"][name], rel=SATT_RTOL), name
        assert row["t"] == pytest.approx(want["t"][name], rel=SATT_RTOL), name
        assert_p(row["p"], want["p"][name], SATT_RTOL, name)


@pytest.mark.parametrize("path", _cases("anova_type3_satterthwaite"), ids=lambda p: p.stem)
def test_anova_type3_satterthwaite(path):
    ref, fit = fit_reference(path)
    table = anova_type3(fit, ddf="satterthwaite")
    want = ref["anova_type3_satterthwaite"]
    assert list(table.columns) == ANOVA_COLUMNS
    assert len(table) == len(want)
    for (_, row), exp in zip(table.iterrows(), want, strict=True):
        assert row["numdf"] == exp["numdf"], exp["term"]
        assert row["dendf"] == pytest.approx(exp["dendf"], rel=SATT_RTOL), exp["term"]
        assert row["F"] == pytest.approx(exp["F"], rel=SATT_RTOL), exp["term"]
        assert_p(row["p"], exp["p"], SATT_RTOL, exp["term"])


@pytest.mark.parametrize("path", _cases("kenward_roger"), ids=lambda p: p.stem)
def test_kenward_roger_coefficients(path):
    ref, fit = fit_reference(path)
    table = coef_table(fit, ddf="kenward-roger")
    want = ref["kenward_roger"]
    for i, name in enumerate(want["df"]):
        row = table.iloc[i]
        assert row["df"] == pytest.approx(want["df"][name], rel=KR_RTOL), name
        assert row["std_error"] == pytest.approx(want["se"][name], rel=KR_RTOL), name
        assert_p(row["p"], want["p"][name], KR_RTOL, name)


@pytest.mark.parametrize("path", _cases("confint_wald"), ids=lambda p: p.stem)
def test_coef_table_none_is_lme4_wald(path):
    ref, fit = fit_reference(path)
    table = coef_table(fit, ddf="none")
    assert np.all(np.isinf(table["df"]))
    se = table["std_error"].to_numpy()
    for i, row in enumerate(ref["confint_wald"]):
        for key in ("lower", "upper"):
            assert table[key].iloc[i] == pytest.approx(
                row[key], rel=ESTIMATE_RTOL, abs=ESTIMATE_RTOL * se[i]
            ), (row["parm"], key)


# ---- models the references lack, checked against R -------------------------------------------
# R: cake <- read.csv("cake.csv", stringsAsFactors = TRUE)
#    f <- lmer(angle ~ recipe * temp + (1 | recipe:replicate), cake)
#    anova(f, ddf = "Kenward-Roger")
CAKE_KR = [
    (2, 254.015763178590, 0.0956779645971841, 9.08789354867487e-01),
    (1, 221.999999999891, 94.1632322315076919, 8.74683177931255e-19),
    (2, 221.999999999891, 0.0416924459459088, 9.59172238624359e-01),
]
# f <- lmer(angle ~ recipe * factor(temp) + (1 | recipe:replicate), cake); anova(f); anova(f,
# ddf = "Kenward-Roger")  -- factor × factor: type III contrasts orthogonalised within terms
CAKE_FACTOR_S = [
    (2, 41.9999998111562, 0.248788772459164, 7.80885615683170e-01),
    (5, 210.0000000664645, 20.519860606708139, 1.15316181067294e-16),
    (10, 210.0000000684089, 1.006197984606346, 4.39269436688655e-01),
]
CAKE_FACTOR_KR = [
    (2, 42.0000000000013, 0.248788772459164, 7.80885615678076e-01),
    (5, 210.0000000000001, 20.519860606708153, 1.15316181316683e-16),
    (10, 210.0000000000016, 1.006197984606346, 4.39269436689986e-01),
]
# lmer(angle ~ recipe * temp + (1 | recipe:replicate), cake, contrasts = list(recipe =
# "contr.sum")); anova(f)  -- lmerTest maps its treatment-coded contrasts to sum coding
CAKE_SUM_S = [
    (2, 254.015759288561, 0.0956779631322935, 9.08789356198263e-01),
    (1, 221.999995917410, 94.1632290673047123, 8.74684261561614e-19),
    (2, 222.000000143221, 0.0416924445451847, 9.59172239967385e-01),
]
# machines <- read.csv("machines.csv", stringsAsFactors = TRUE)
# f <- lmer(score ~ Machine + (1 | Worker/Machine), machines); anova(f, ddf = "Kenward-Roger")
MACHINES_KR = [(2, 10.0000000000002, 20.576082858199, 0.000285548491681582)]
# contest(f, rbind(c(0, 1, -1), c(0, 1, 0)), rhs = c(-5, 7), joint = TRUE[, ddf = "Kenward-Roger"])
MACHINES_CONTEST_S = (2, 9.99999993665067, 0.387585083854368, 0.688460951046857)
MACHINES_CONTEST_KR = (2, 10.0000000000002, 0.387585083854365, 0.688460950987568)
# contest(f, c(0, 1, -1), rhs = -5, joint = TRUE)
MACHINES_CONTEST_1 = (1, 9.99999991488274, 0.190432090549481, 0.671828296935418)


@pytest.fixture(scope="module")
def cake_fit():
    return mf.lmer("angle ~ recipe * temp + (1|recipe:replicate)", mf.load_dataset("cake"))


@pytest.fixture(scope="module")
def machines_fit():
    return mf.lmer("score ~ Machine + (1|Worker/Machine)", mf.load_dataset("machines"))


@pytest.fixture(scope="module")
def sleep_fit():
    return mf.lmer("Reaction ~ Days + (Days|Subject)", mf.load_dataset("sleepstudy"))


def _check_rows(table: pd.DataFrame, want: list[tuple], rtol: float) -> None:
    assert len(table) == len(want)
    for (_, row), (numdf, dendf, F, p) in zip(table.iterrows(), want, strict=True):
        assert row["numdf"] == numdf
        assert row["dendf"] == pytest.approx(dendf, rel=rtol)
        assert row["F"] == pytest.approx(F, rel=rtol)
        assert_p(row["p"], p, rtol, "p")


@pytest.mark.parametrize(
    ("formula", "ddf", "want", "rtol"),
    [
        ("angle ~ recipe * temp + (1|recipe:replicate)", "kenward-roger", CAKE_KR, KR_RTOL),
        (
            "angle ~ recipe * C(temp) + (1|recipe:replicate)",
            "satterthwaite",
            CAKE_FACTOR_S,
            SATT_RTOL,
        ),
        (
            "angle ~ recipe * C(temp) + (1|recipe:replicate)",
            "kenward-roger",
            CAKE_FACTOR_KR,
            KR_RTOL,
        ),
        (
            "angle ~ C(recipe, contr.sum) * temp + (1|recipe:replicate)",
            "satterthwaite",
            CAKE_SUM_S,
            SATT_RTOL,
        ),
    ],
    ids=["cake-KR", "cake-factor-S", "cake-factor-KR", "cake-sum-S"],
)
def test_anova_type3_against_lmertest(formula, ddf, want, rtol):
    fit = mf.lmer(formula, mf.load_dataset("cake"))
    _check_rows(anova_type3(fit, ddf=ddf), want, rtol)


def test_machines_kr_anova_and_contests(machines_fit):
    _check_rows(anova_type3(machines_fit, ddf="Kenward-Roger"), MACHINES_KR, KR_RTOL)
    L = np.array([[0.0, 1, -1], [0, 1, 0]])
    _check_rows(linear_test(machines_fit, L, rhs=[-5, 7]), [MACHINES_CONTEST_S], SATT_RTOL)
    _check_rows(
        linear_test(machines_fit, L, ddf="kenward-roger", rhs=[-5, 7]),
        [MACHINES_CONTEST_KR],
        KR_RTOL,
    )
    strings = ["Machine[T.B] - Machine[T.C] = -5", "Machine[T.B] = 7"]
    _check_rows(linear_test(machines_fit, strings), [MACHINES_CONTEST_S], SATT_RTOL)
    one = linear_test(machines_fit, ["Machine[T.B] - Machine[T.C] = -5"])
    _check_rows(one, [MACHINES_CONTEST_1], SATT_RTOL)


def test_type3_contrast_of_numeric_main_effect(cake_fit):
    """lmerTest's type III hypothesis for temp in recipe * temp averages the slope over recipes."""
    L = term_contrasts(cake_fit)
    assert L["temp"] == pytest.approx(np.array([[0, 0, 0, 1, 1 / 3, 1 / 3]]), abs=1e-7)
    assert L["recipe"] == pytest.approx(np.eye(6)[[1, 2]])


def test_anova_aliased_term_is_nan():
    """A term all of whose columns were dropped gets a NaN row (as lmerTest)."""
    path = next(p for p in EXTRA if p.stem == "sleepstudy_rankdef_reml")
    _, fit = fit_reference(path)
    table = anova_type3(fit)
    assert list(table["term"]) == ["Days", "Days2"]
    assert table.iloc[0]["numdf"] == 1 and np.isfinite(table.iloc[0]["F"])
    assert table.iloc[1][["numdf", "dendf", "F", "p"]].isna().all()


# ---- internals and invariants -------------------------------------------------------------------
@pytest.mark.parametrize(
    "stem", ["sleepstudy_slopes_reml", "sleepstudy_intercept_ml", "sleepstudy_weights_reml"]
)
def test_unprofiled_deviance_equals_objective_at_sigma_hat(stem):
    path = next(p for p in SHARED + EXTRA if p.stem == stem)
    _, fit = fit_reference(path)
    crit = _Criterion(fit)
    try:
        value = crit.deviance(np.append(fit.theta, fit.sigma))
        other = crit.deviance(np.append(fit.theta, 1.1 * fit.sigma))
    finally:
        fit._engine.factor.update(fit._engine.theta)
    assert value == pytest.approx(fit.objective, rel=1e-12)
    assert other > value  # σ̂ minimises the deviance at θ̂


def test_factor_restored_after_derivatives(sleep_fit):
    factor = sleep_fit._engine.factor
    before = factor.current_objective(sleep_fit.reml)
    coef_table(sleep_fit)
    assert factor.current_objective(sleep_fit.reml) == before == pytest.approx(sleep_fit.objective)


def test_coef_table_layout(sleep_fit):
    for ddf in ("satterthwaite", "kenward-roger", "none", "Satterthwaite", "Kenward-Roger"):
        table = coef_table(sleep_fit, ddf=ddf, level=0.9)
        assert list(table.columns) == COEF_COLUMNS
        assert list(table.index) == list(sleep_fit.fixef.index)
        assert table["estimate"].to_numpy() == pytest.approx(sleep_fit.fixef.to_numpy())
        t = table["t"].to_numpy()
        assert t == pytest.approx(table["estimate"].to_numpy() / table["std_error"].to_numpy())
        assert np.all(table["lower"] < table["estimate"]) and np.all(
            table["estimate"] < table["upper"]
        )
    wald = coef_table(sleep_fit, ddf="none", level=0.9)
    half = (wald["upper"] - wald["lower"]) / 2 / wald["std_error"]
    assert half.to_numpy() == pytest.approx(1.6448536269514722)
    assert wald["std_error"].to_numpy() == pytest.approx(sleep_fit.se.to_numpy())


def test_satterthwaite_and_kr_per_row(sleep_fit):
    L = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 5.0]])
    est, se, df = satterthwaite(sleep_fit, L)
    assert est == pytest.approx(L @ sleep_fit.fixef.to_numpy())
    assert se[:2] == pytest.approx(sleep_fit.se.to_numpy())
    assert df.shape == (3,) and np.all(df > 0)
    est_kr, se_kr, df_kr = kenward_roger(sleep_fit, L[1])
    assert est_kr[0] == pytest.approx(est[1]) and df_kr[0] == pytest.approx(17.0, rel=1e-8)
    assert se_kr[0] >= se[1] * (1 - 1e-12)  # the adjustment never shrinks (0 when balanced)


def test_f_test_of_one_row_is_t_squared(sleep_fit):
    table = coef_table(sleep_fit)
    test = linear_test(sleep_fit, ["Days = 0"])
    assert test["F"].iloc[0] == pytest.approx(table.loc["Days", "t"] ** 2)
    assert test["dendf"].iloc[0] == pytest.approx(table.loc["Days", "df"])
    assert test["p"].iloc[0] == pytest.approx(table.loc["Days", "p"])
    assert list(test.columns) == ["numdf", "dendf", "F", "p"]


def test_rank_deficient_hypothesis(sleep_fit):
    """Repeated rows: numdf is the rank (lmerTest's eigenvalue rule, pbkrtest's rank)."""
    L = np.array([[0.0, 1.0], [0.0, 2.0]])
    for ddf in ("satterthwaite", "kenward-roger", "none"):
        both = linear_test(sleep_fit, L, ddf=ddf)
        one = linear_test(sleep_fit, L[:1], ddf=ddf)
        assert both["numdf"].iloc[0] == 1
        assert both["F"].iloc[0] == pytest.approx(one["F"].iloc[0])
        assert both["dendf"].iloc[0] == pytest.approx(one["dendf"].iloc[0])


def test_none_is_chi_square(sleep_fit):
    test = linear_test(sleep_fit, np.eye(2), ddf="none")
    assert math.isinf(test["dendf"].iloc[0])
    from scipy.stats import chi2

    assert test["p"].iloc[0] == pytest.approx(chi2.sf(2 * test["F"].iloc[0], 2))


def test_kenward_roger_needs_reml():
    path = next(p for p in SHARED if p.stem == "sleepstudy_slopes_ml")
    _, fit = fit_reference(path)
    with pytest.raises(mf.MixedFitError, match="only available for REML"):
        coef_table(fit, ddf="kenward-roger")


def test_kenward_roger_size_limit(monkeypatch):
    monkeypatch.setattr(kr_module, "KR_MAX_RANDOM_EFFECTS", 10)
    fresh = mf.lmer("Reaction ~ Days + (Days|Subject)", mf.load_dataset("sleepstudy"))
    with pytest.raises(mf.MixedFitError, match=r"36 random effects \(limit 10\)"):
        kenward_roger(fresh, [0.0, 1.0])


def test_kenward_roger_constant_weights_invariant(sleep_fit):
    """Weights enter through the residual covariance σ²W⁻¹, so constant weights change
    nothing (pbkrtest ignores weights and would not be invariant)."""
    df = mf.load_dataset("sleepstudy").assign(w=3.0)
    weighted = mf.lmer("Reaction ~ Days + (Days|Subject)", df, weights="w")
    a, b = coef_table(sleep_fit, "kenward-roger"), coef_table(weighted, "kenward-roger")
    assert a["df"].to_numpy() == pytest.approx(b["df"].to_numpy(), rel=1e-6)
    assert a["std_error"].to_numpy() == pytest.approx(b["std_error"].to_numpy(), rel=1e-6)


def test_bad_arguments(sleep_fit):
    with pytest.raises(ValueError, match="ddf must be"):
        coef_table(sleep_fit, ddf="bogus")
    with pytest.raises(ValueError, match="level"):
        coef_table(sleep_fit, level=1.5)
    with pytest.raises(mf.MixedFitError, match=r"shape \(q, 2\)"):
        linear_test(sleep_fit, np.ones((1, 3)))
    with pytest.raises(mf.MixedFitError, match="rhs is given inside"):
        linear_test(sleep_fit, ["Days = 1"], rhs=1.0)


# ---- contrast strings ---------------------------------------------------------------------------
NAMES = ["Intercept", "recipe[T.B]", "recipe[T.C]", "temp", "recipe[T.B]:temp", "np.log(x)"]


@pytest.mark.parametrize(
    ("text", "row", "rhs"),
    [
        ("temp = 0", {"temp": 1}, 0),
        ("temp", {"temp": 1}, 0),
        ("recipe[T.B] - recipe[T.C] = 0", {"recipe[T.B]": 1, "recipe[T.C]": -1}, 0),
        ("recipe[T.B] = recipe[T.C]", {"recipe[T.B]": 1, "recipe[T.C]": -1}, 0),
        ("2*temp + 0.5 recipe[T.B]:temp = 3", {"temp": 2, "recipe[T.B]:temp": 0.5}, 3),
        ("temp*2 - 1 = 0", {"temp": 2}, 1),
        ("-temp + -recipe[T.B] = -1.5e-1", {"temp": -1, "recipe[T.B]": -1}, -0.15),
        ("(Intercept) + recipe[T.B] = 50", {"Intercept": 1, "recipe[T.B]": 1}, 50),
        ("np.log(x) == 2", {"np.log(x)": 1}, 2),
        ("recipe[T.B]:temp - temp = 0", {"recipe[T.B]:temp": 1, "temp": -1}, 0),
        ("  temp+temp=1  ", {"temp": 2}, 1),
    ],
)
def test_parse_valid(text, row, rhs):
    L, r = parse_hypotheses([text], NAMES)
    want = np.zeros(len(NAMES))
    for name, value in row.items():
        want[NAMES.index(name)] = value
    assert L.shape == (1, len(NAMES))
    assert L[0] == pytest.approx(want)
    assert r[0] == pytest.approx(rhs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty hypothesis"),
        ("   ", "empty hypothesis"),
        ("Days = 0", "unknown fixed effect 'Days'"),
        ("temp = = 1", "missing term"),
        ("temp = 1 = 2", "unexpected '='"),
        ("temp temp", "expected '\\+', '-' or '=' before 't'"),
        ("temp +", "missing term"),
        ("2 * = 1", "expected a fixed-effect name after"),
        ("temp * x", "expected a number after"),
        ("temp - temp = 0", "does not involve any fixed effect"),
        ("3 = 1", "does not involve any fixed effect"),
        ("recipe[T.D] = 0", "unknown fixed effect 'recipe\\[T.D\\]'"),
        ("temp / 2 = 0", "unexpected '/'|expected"),
    ],
)
def test_parse_malformed(text, message):
    with pytest.raises(mf.MixedFitError, match=message):
        parse_hypotheses([text], NAMES)


def test_parse_several_and_errors_name_the_hypothesis():
    L, r = parse_hypotheses(["temp = 1", "recipe[T.B] = 2"], NAMES)
    assert L.shape == (2, len(NAMES)) and r.tolist() == [1.0, 2.0]
    with pytest.raises(mf.MixedFitError, match=re.escape("'tempo = 1'")):
        parse_hypotheses(["tempo = 1"], NAMES)
    with pytest.raises(mf.MixedFitError, match="no hypothesis"):
        parse_hypotheses([], NAMES)
    with pytest.raises(mf.MixedFitError, match="must be a string"):
        parse_hypotheses([1.0], NAMES)  # type: ignore[list-item]
