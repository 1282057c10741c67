"""R's formula language, verbatim (issue 13 §1).

Every formula of tests/reference/dialect/*.json is the string given to ``lme4::lmer`` by
tests/reference/dialect/make_dialect.R; the same string must give lme4's fixed effects, standard
errors, REML criterion and model-matrix rows, in safe mode too, and (for stateful transforms:
poly, scale, ns, bs, factors) R's population-level predictions on new data, which re-use the
training-data state as R's ``makepredictcall``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from references import ESTIMATE_RTOL, FITTED_RTOL, OBJECTIVE_RTOL

import mixedfit as mf
from mixedfit import load_fit
from mixedfit.design import build_design
from mixedfit.exceptions import DataError, FormulaError
from mixedfit.formula import parse_formula
from mixedfit.formula.rdialect import r_formula
from mixedfit.formula.safety import check_safe_formula
from mixedfit.io.persist import save_fit

REFERENCES = Path(__file__).parent / "reference" / "dialect"

# every reference case (the fixed-effect names are R's: ref["columns"], as names(fixef(m)))
CASES = sorted(p.stem for p in REFERENCES.glob("*.json"))


def _load(name: str) -> dict:
    return json.loads((REFERENCES / f"{name}.json").read_text())


def _data() -> dict[str, pd.DataFrame]:
    """The data sets of make_dialect.R (with its added columns)."""
    ss = mf.load_dataset("sleepstudy")
    ss["Days.num"] = ss["Days"] + 1.0
    ss["Days.na"] = ss["Days"].astype(float)
    ss.loc[[0, 19, 54, 119], "Days.na"] = np.nan  # R's rows 1, 20, 55, 120
    return {
        "sleepstudy": ss,
        "orthodont": mf.load_dataset("orthodont"),
        "cake": mf.load_dataset("cake"),
    }


DATA = _data()


def _fit(ref: dict, **kw) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.ConvergenceWarning)
        return mf.lmer(ref["formula"], DATA[ref["data"]], **kw)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_r_formula_gives_lme4s_model(case, safe):
    ref = _load(case)
    fit = _fit(ref, safe=safe)
    assert list(fit.fixef.index) == ref["columns"] == list(ref["beta"])
    beta, se = np.array(list(ref["beta"].values())), np.array(list(ref["se"].values()))
    scale = np.abs(beta).max()
    np.testing.assert_allclose(
        fit.fixef.to_numpy(), beta, rtol=ESTIMATE_RTOL, atol=ESTIMATE_RTOL * scale
    )
    np.testing.assert_allclose(fit.se.to_numpy(), se, rtol=ESTIMATE_RTOL)
    assert fit.objective == pytest.approx(ref["reml_criterion"], rel=OBJECTIVE_RTOL)
    assert fit.nobs == ref["nobs"]


@pytest.mark.parametrize("case", CASES)
def test_r_formula_gives_rs_model_matrix(case):
    ref = _load(case)
    design = build_design(parse_formula(ref["formula"]), DATA[ref["data"]])
    np.testing.assert_allclose(design.X[:6], np.array(ref["matrix_head"]), rtol=1e-9, atol=1e-12)
    assert design.X.shape[1] == len(ref["columns"])


PREDICTED = sorted(p.stem for p in REFERENCES.glob("*.json") if "newdata" in _load(p.stem))


@pytest.mark.parametrize("case", PREDICTED)
def test_stateful_transforms_keep_the_training_state_in_predict(case):
    """New data (some outside the fitted range: spline extrapolation) are encoded with the
    training data's knots, centre, scale, polynomial coefficients and levels, as R."""
    ref = _load(case)
    fit = _fit(ref)
    newdata = pd.DataFrame(ref["newdata"])  # text, not categories: levels come from the fit
    predicted = fit.predict(newdata, random=False)
    expected = np.array(ref["predict_fixed"])
    np.testing.assert_allclose(
        predicted, expected, rtol=0, atol=FITTED_RTOL * np.abs(expected).max()
    )


def test_saved_fits_with_r_spellings_load_and_predict(tmp_path):
    ref = _load("ns")
    fit = _fit(ref)
    path = tmp_path / "fit.json"
    save_fit(fit, path, data=DATA["sleepstudy"])
    loaded = load_fit(path)
    newdata = pd.DataFrame(ref["newdata"])
    np.testing.assert_array_equal(
        loaded.predict(newdata, random=False), fit.predict(newdata, random=False)
    )


def test_missing_values_are_dropped_before_the_knots_are_placed():
    """na.omit first: the knots are quantiles of the rows the model uses (R's ns_missing)."""
    ref = _load("ns_missing")
    fit = _fit(ref)
    assert fit.nobs == 176 and fit.n_dropped == 4


def test_python_spellings_still_work():
    ss = DATA["sleepstudy"]
    fit = mf.lmer("np.log(Reaction) ~ C(Days) + (1 | Subject)", ss)
    assert list(fit.fixef.index)[:2] == ["(Intercept)", "C(Days)1"]
    r = mf.lmer("log(Reaction) ~ factor(Days) + (1 | Subject)", ss)
    assert r.objective == pytest.approx(fit.objective, rel=1e-12)
    fit = mf.lmer("Reaction ~ np.log(`Days.num`) + I(Days**2) + (1 | Subject)", ss, safe=True)
    r = mf.lmer("Reaction ~ log(Days.num) + I(Days^2) + (1 | Subject)", ss, safe=True)
    np.testing.assert_allclose(r.fixef.to_numpy(), fit.fixef.to_numpy(), rtol=1e-10)


def test_factor_labels_whole_numbers_as_integers():
    """factor(Days) next to a numeric use of Days (which makes Days float): levels 1, not 1.0."""
    with pytest.warns(mf.RankDeficiencyWarning, match="I\\(Days\\^2\\)"):
        fit = mf.lmer("Reaction ~ factor(Days) + I(Days^2) + (1 | Subject)", DATA["sleepstudy"])
    assert "factor(Days)1" in fit.fixef.index


# (R formula, the rewritten formula formulaic is given)
REWRITES = [
    ("y ~ I(x^2)", "y ~ I(x**2)"),
    ("y ~ (a + b)^2", "y ~ (a + b)^2"),
    (
        "y ~ poly(x, 2, raw = TRUE) + scale(x, scale = FALSE)",
        "y ~ poly(x, 2, raw = True) + scale(x, scale = False)",
    ),
    ("y ~ poly(x, 2, raw = T)", "y ~ poly(x, 2, raw = T)"),
    ("log(total.fruits + 1) ~ log(Solar.R)", "log(`total.fruits` + 1) ~ log(`Solar.R`)"),
    ("y ~ as.factor(x) + as.numeric(f)", "y ~ as_factor(x) + as_numeric(f)"),
    ("y ~ a %in% b", "y ~ a : b"),
    ("y ~ np.log(x) + C(f, contr.sum) + x.clip(0)", "y ~ np.log(x) + C(f, contr.sum) + x.clip(0)"),
    (
        "y ~ relevel(f, 'a.b') + `my.x` + I(x.__class__)",
        "y ~ relevel(f, 'a.b') + `my.x` + I(x.__class__)",
    ),
    ("y ~ bs(x, Boundary.knots = c(0, 10))", "y ~ bs(x, `Boundary.knots` = c(0, 10))"),
    ("y ~ I(1.5e-3 * x.1) + {x.2 + .5}", "y ~ I(1.5e-3 * `x.1`) + {`x.2` + .5}"),
]


@pytest.mark.parametrize(("r", "python"), REWRITES)
def test_r_spellings_are_rewritten_for_formulaic(r, python):
    assert r_formula(r) == python


# (formula on sleepstudy/orthodont, error class, piece of the message)
ERRORS = [
    ("Reaction ~ Days + (1 | factor(Subject))", FormulaError, "add it to the data as a column"),
    ("Reaction ~ Days + (1 | log(Days + 1))", FormulaError, "lme4 refuses it too"),
    (
        "Reaction ~ poly(Days, 10) + (1 | Subject)",
        FormulaError,
        "must be less than the number of unique",
    ),
    (
        "Reaction ~ relevel(Subject, '999') + (1 | Subject)",
        FormulaError,
        "'ref' must be an existing level",
    ),
    ("Reaction ~ log(Subject) + (1 | Subject)", DataError, "needs numbers"),
    ("Reaction ~ I(Subject^2) + (1 | Subject)", DataError, "needs numbers"),
    ("Reaction ~ sqrt(Days - 5) + (1 | Subject)", DataError, "infinite or NaN"),
    ("Reaction ~ ns(Days, df = 2.5) + (1 | Subject)", FormulaError, "df must be an integer"),
    ("Reaction ~ log(Days.nope) + (1 | Subject)", FormulaError, "unknown column 'Days.nope'"),
]


@pytest.mark.parametrize(("formula", "error", "message"), ERRORS)
def test_what_r_refuses_is_refused_with_a_message(formula, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        mf.lmer(formula, DATA["sleepstudy"])


# every R function added, in safe mode (columns of sleepstudy)
SAFE = [
    *(
        f"Reaction ~ {f}(Days + 1) + (1 | Subject)"
        for f in (
            "log",
            "log2",
            "log10",
            "log1p",
            "exp",
            "expm1",
            "sqrt",
            "abs",
            "sin",
            "cos",
            "tan",
            "atan",
            "sinh",
            "cosh",
            "tanh",
            "floor",
            "ceiling",
            "trunc",
            "sign",
        )
    ),
    "Reaction ~ log(Days + 1, 2) + (1 | Subject)",
    "Reaction ~ asin(Days / 10) + acos(Days / 10) + (1 | Subject)",
    "Reaction ~ factor(Days) + as.factor(Days) + (1 | Subject)",
    "Reaction ~ factor(Days, levels = c(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)) + (1 | Subject)",
    "Reaction ~ as.numeric(Subject) + as.integer(Days) + as.double(Days) + (1 | Subject)",
    "Reaction ~ relevel(Subject, '309') + relevel(Subject, ref = \"310\") + (1 | Subject)",
    "Reaction ~ relevel(factor(Days), 3) + (1 | Subject)",
    "Reaction ~ poly(Days, 2, raw = TRUE) + poly(Days, degree = 3, raw = F) + (1 | Subject)",
    "Reaction ~ scale(Days, center = TRUE, scale = FALSE) + scale(Days, scale = T) + (1 | Subject)",
    "Reaction ~ ns(Days, 3) + ns(Days, df = 2, intercept = TRUE) + (1 | Subject)",
    "Reaction ~ ns(Days, knots = c(2, 5), Boundary.knots = c(-1, 10)) + (1 | Subject)",
    "Reaction ~ bs(Days, df = 5, degree = 2) + bs(Days, knots = c(4.5), intercept = FALSE)"
    " + (1 | Subject)",
    "Reaction ~ I(Days > 4) + I(Days^2) + exp(-Days) + (1 | Subject)",
    "Reaction ~ Days %in% Subject + (1 | Subject)",
    "log(Days.num) ~ log(Days.num + 1) + (1 | Subject)",
]


@pytest.mark.parametrize("formula", SAFE)
def test_safe_mode_allows_every_r_function(formula):
    data = DATA["sleepstudy"]
    check_safe_formula(formula, data.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        safe, plain = mf.lmer(formula, data, safe=True), mf.lmer(formula, data)
    assert safe.objective == plain.objective


REFUSED = [
    ("y ~ relevel(f, open('x')) + (1 | g)", "contrast arguments must be constants"),
    ("y ~ relevel(f, '__x') + (1 | g)", "names with '__'"),
    ("y ~ ns(x, knots = open('x')) + (1 | g)", "knots must be written c(numbers)"),
    ("y ~ ns(x, knots = c(open('x'))) + (1 | g)", "knots must be numbers"),
    ("y ~ bs(x, knots = c(1), Boundary.knots = [0, 1]) + (1 | g)", "c(numbers)"),
    ("y ~ factor(x, open('x')) + (1 | g)", "takes one expression"),
    ("y ~ factor(x, levels = ['a']) + (1 | g)", "levels must be written c(constants)"),
    ("y ~ factor(x, levels = c(open('x'))) + (1 | g)", "constants"),
    ("y ~ log(x, base = open('x')) + (1 | g)", "options must be"),
    ("y ~ poly(x, 2, raw = TRUE_) + (1 | g)", "options must be"),
    ("y ~ c(x) + (1 | g)", "calls of functions other than the allowed ones"),
    ("y ~ as.character(x) + (1 | g)", "not a Python expression"),
    ("y ~ I(x if x > 0 else 0) + (1 | g)", "IfExp"),
]


@pytest.mark.parametrize(("formula", "message"), REFUSED)
def test_safe_mode_still_refuses_code(formula, message):
    with pytest.raises(FormulaError, match="safe mode") as info:
        check_safe_formula(formula, ["y", "x", "f", "g"])
    assert message in str(info.value)


@pytest.mark.parametrize(
    "dtype",
    ["int8", "uint8", "Int64", "float32", "Float64", "int16[pyarrow]", "double[pyarrow]"],
)
def test_power_on_every_numeric_dtype(dtype):
    """I(Days^2) is R's power whatever the column's dtype (no integer wrap-around)."""
    ref = _load("power")
    data = DATA["sleepstudy"].astype({"Days": dtype})
    fit = mf.lmer(ref["formula"], data)
    beta = np.array(list(ref["beta"].values()))
    np.testing.assert_allclose(fit.fixef.to_numpy(), beta, rtol=ESTIMATE_RTOL)


@pytest.mark.parametrize("dtype", ["bool", "boolean", "bool[pyarrow]"])
def test_power_of_a_logical_column_is_a_number(dtype):
    """R: TRUE^2 is 1, so I(b^2) with b = Days > 4 is lme4's I(Days > 4) model."""
    ref = _load("comparison")
    data = DATA["sleepstudy"].assign(b=(DATA["sleepstudy"]["Days"] > 4).astype(dtype))
    fit = mf.lmer("Reaction ~ I(b^2) + (1 | Subject)", data)
    beta = np.array(list(ref["beta"].values()))
    np.testing.assert_allclose(fit.fixef.to_numpy(), beta, rtol=ESTIMATE_RTOL)
    assert fit.objective == pytest.approx(ref["reml_criterion"], rel=OBJECTIVE_RTOL)
