"""R's names by default (issue 13 §2): fixed effects, random-effect columns and anova term labels
as R names them, checked against tests/reference/names/names.json (written by make_names.R with
lme4), and ``names="formulaic"`` keeping formulaic's names."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.design.rnames import r_expression, split_column
from mixedfit.exceptions import MixedFitError

CASES = json.loads((Path(__file__).parent / "reference" / "names" / "names.json").read_text())


def _data() -> dict:
    orthodont = mf.load_dataset("orthodont")
    orthodont["older"] = orthodont["age"] > 10
    sleepstudy = mf.load_dataset("sleepstudy")
    sleepstudy["Days.num"] = sleepstudy["Days"] + 1.0
    return {"sleepstudy": sleepstudy, "orthodont": orthodont, "cake": mf.load_dataset("cake")}


DATA = _data()


def _fit(case: dict, **kw) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(case["formula"], DATA[case["data"]], **kw)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_names_are_rs(case):
    fit = _fit(case)
    assert list(fit.fixef.index) == case["fixef"]
    assert {g: list(frame.columns) for g, frame in fit.ranef.items()} == case["ranef"]
    labels = list(fit._design.spec.term_labels.values())
    assert labels == case["term_labels"]
    np.testing.assert_allclose(fit.fixef.to_numpy(), case["beta"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("python", "r"),
    [
        ("poly(Days, 2, raw=True)", "poly(Days, 2, raw = TRUE)"),
        ("I(Days ** 2)", "I(Days^2)"),
        ("I((age - 11) ** 2)", "I((age - 11)^2)"),
        ("relevel(Sex, 'Female')", 'relevel(Sex, "Female")'),
        ("log(`Days.num` + 1.0)", "log(Days.num + 1)"),
        ("exp(-age / 10)", "exp(-age/10)"),
        ("I(x > 4)", "I(x > 4)"),
        ("as_factor(age)", "as.factor(age)"),
        ("scale(Days, scale=False)", "scale(Days, scale = FALSE)"),
        ("bs(Days, knots=c(3, 6), degree=2)", "bs(Days, knots = c(3, 6), degree = 2)"),
        ("I(x * 100000.0)", "I(x * 1e+05)"),
        ("I(x + 123456)", "I(x + 123456)"),
        ("np.log(x)", "np.log(x)"),
        ("`my var`", "`my var`"),
    ],
)
def test_expressions_as_r_deparses_them(python, r):
    assert r_expression(python) == r


def test_split_column_keeps_colons_inside_brackets():
    assert split_column("x:f[T.a:b]:I(a[1:2])") == ["x", "f[T.a:b]", "I(a[1:2])"]


ORTHODONT = DATA["orthodont"]


def test_formulaic_names_on_request():
    fit = mf.lmer("distance ~ age * Sex + (age | Subject)", ORTHODONT, names="formulaic")
    assert list(fit.fixef.index) == ["Intercept", "age", "Sex[T.Female]", "age:Sex[T.Female]"]
    assert list(fit.ranef["Subject"].columns) == ["Intercept", "age"]
    assert list(fit.anova()["term"]) == ["age", "Sex", "age:Sex"]
    r = mf.lmer("distance ~ age * Sex + (age | Subject)", ORTHODONT)
    np.testing.assert_array_equal(fit.fixef.to_numpy(), r.fixef.to_numpy())
    assert list(r.vcov.index) == list(r.fixef.index) == ["(Intercept)", "age", "SexFemale",
                                                         "age:SexFemale"]  # fmt: skip
    assert list(r.varcorr["var1"][:2]) == ["(Intercept)", "age"]
    assert r.theta_names == ["Subject.(Intercept)", "Subject.age.(Intercept)", "Subject.age"]


def test_unknown_naming_scheme_is_refused():
    with pytest.raises(MixedFitError, match="names must be one of"):
        mf.lmer("distance ~ age + (1 | Subject)", ORTHODONT, names="R")


def test_contrast_strings_take_rs_names_and_formulaic_ones():
    fit = mf.lmer("distance ~ age * Sex + (1 | Subject)", ORTHODONT)
    new = fit.test(["SexFemale = 0", "age:SexFemale + age = 0.5"])
    old = fit.test(["Sex[T.Female] = 0", "age:Sex[T.Female] + age = 0.5"])
    pd_equal = np.testing.assert_array_equal
    pd_equal(new.to_numpy(), old.to_numpy())
    both = fit.test(["(Intercept) - 16 = 0"]).to_numpy()
    pd_equal(both, fit.test(["Intercept - 16 = 0"]).to_numpy())
    formulaic = mf.lmer("distance ~ age * Sex + (1 | Subject)", ORTHODONT, names="formulaic")
    pd_equal(formulaic.test(["SexFemale = 0", "age:SexFemale + age = 0.5"]).to_numpy(), new)
    with pytest.raises(MixedFitError, match="SexMale"):
        fit.test("SexMale = 0")


def test_poly_names_in_contrast_strings_and_anova():
    fit = mf.lmer("Reaction ~ poly(Days, 2, raw = TRUE) + (1 | Subject)", DATA["sleepstudy"])
    a = fit.test("poly(Days, 2, raw = TRUE)2 = 0")
    b = fit.test("poly(Days, 2, raw=True)[2] = 0")
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert list(fit.anova()["term"]) == ["poly(Days, 2, raw = TRUE)"]


@pytest.mark.parametrize("names", ["r", "formulaic"])
def test_saved_fits_keep_their_names(tmp_path, names):
    """A fit saved with formulaic's names (every file written before R's names) loads with
    them; one saved with R's names loads with R's."""
    fit = mf.lmer("distance ~ age * Sex + (age | Subject)", ORTHODONT, names=names)
    path = tmp_path / "fit.json"
    fit.save(path)
    loaded = mf.load_fit(path)
    assert list(loaded.fixef.index) == list(fit.fixef.index)
    assert list(loaded.ranef["Subject"].columns) == list(fit.ranef["Subject"].columns)
    assert loaded._design.spec.names == names
    np.testing.assert_array_equal(loaded.fixef.to_numpy(), fit.fixef.to_numpy())


def test_residual_structure_fits_take_names_too():
    df = ORTHODONT.assign(visit=(ORTHODONT["age"] - 8) // 2)
    r = mf.gls("distance ~ age * Sex", df, residual=mf.AR1("visit", "Subject"))
    f = mf.gls("distance ~ age * Sex", df, residual=mf.AR1("visit", "Subject"), names="formulaic")
    assert list(r.fixef.index) == ["(Intercept)", "age", "SexFemale", "age:SexFemale"]
    assert list(f.fixef.index) == ["Intercept", "age", "Sex[T.Female]", "age:Sex[T.Female]"]
    np.testing.assert_array_equal(r.fixef.to_numpy(), f.fixef.to_numpy())
    np.testing.assert_array_equal(
        r.test("age:SexFemale = 0").to_numpy(), r.test("age:Sex[T.Female] = 0").to_numpy()
    )


def test_correlation_heads_abbreviated_as_r():
    """R 4.x: abbreviate(x, minlength = 6), as lme4 heads the correlation of fixed effects."""
    from mixedfit.report.text import abbreviate

    names = {
        "(Intercept)": "(Intr)",
        "age:SexFemale": "ag:SxF",
        "SexFemale": "SexFml",
        "poly(Days, 2, raw = TRUE)1": "p(2r=T",
        "Days": "Days",
        "I(Days^2)": "I(D^2)",
        "factor(Days)1": "fc(D)1",
        "ns(Days, 3)1": "n(D,3)",
        "a b c d e f g": "abcdefg",
        "recipeB:factor(temp)185": "rB:()1",
        "Intercept": "Intrcp",
    }
    assert abbreviate(list(names), 6) == list(names.values())


@pytest.mark.parametrize(
    ("extra", "shown", "absent"),
    [((), "SexFemale", "Sex[T.Female]"), (("--names", "formulaic"), "Sex[T.Female]", "SexFemale")],
)
def test_cli_prints_rs_names(capsys, extra, shown, absent):
    from mixedfit.cli import main

    assert main(["fit", "orthodont", "distance ~ age + Sex + (1 | Subject)", *extra]) == 0
    out = capsys.readouterr().out
    assert shown in out and absent not in out
