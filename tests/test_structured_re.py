"""Structured random-effects terms (issue 12): ``us/diag/cs/ar1/toep(expr | g, hom=)``.

Parsing (table-driven, errors included), the engine's maps ψ → T, the five glmmTMB references
``tests/reference/cov/sleepstudy_tmb_*.json`` (their ``python`` call, pinned), equivalences that
check the inference through the criterion (a heterogeneous ``cs`` of two columns *is* ``us``:
same likelihood, Satterthwaite df and profile intervals), the σ → 0 restart, and the operations
that refuse structured terms.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.structures import (
    CovStructure,
    acf_to_pacf,
    make_structure,
    pacf_to_acf,
)
from mixedfit.exceptions import DataError, FormulaError
from mixedfit.formula import parse_formula
from mixedfit.formula.safety import check_safe_formula

HERE = Path(__file__).parent
REF = HERE / "reference" / "cov"
DATA = HERE / "data" / "cov"
REFERENCES = [
    "sleepstudy_tmb_us_ml",
    "sleepstudy_tmb_diag_ml",
    "sleepstudy_tmb_cs_ml",
    "sleepstudy_tmb_ar1_ml",
    "sleepstudy_tmb_ar1_reml",
]


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    """sleepstudy with R's factor levels (schema.json), ``Daysf`` the day as a factor."""
    schema = json.loads((DATA / "schema.json").read_text())["sleepstudy"]
    df = pd.read_csv(DATA / schema["file"], dtype={k: str for k in schema["factors"]})
    for k, levels in schema["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    return df


@pytest.fixture(scope="module")
def fitted(sleep: pd.DataFrame) -> Callable[..., Any]:
    """``mf.lmer(formula, sleep, reml=reml)``, fitted once per module: the tests that only read a
    fit (the same call in several tests) share it."""
    fits: dict[tuple[str, bool], Any] = {}

    def fit(formula: str, reml: bool = True) -> Any:
        if (formula, reml) not in fits:
            fits[formula, reml] = mf.lmer(formula, sleep, reml=reml)
        return fits[formula, reml]

    return fit


# ----------------------------------------------------------------------------- parsing
PARSE_CASES: list[tuple[str, list[tuple[str, tuple[str, ...], str, bool | None]]]] = [
    ("y ~ x + us(x | g)", [("x", ("g",), "", None)]),
    ("y ~ us(1 + x | g)", [("1 + x", ("g",), "", None)]),
    ("y ~ diag(1 + x | g)", [("1 + x", ("g",), "diag", False)]),
    ("y ~ diag(x | g, hom=True)", [("x", ("g",), "diag", True)]),
    ("y ~ cs(0 + f | g)", [("0 + f", ("g",), "cs", False)]),
    ("y ~ cs(0 + f | g, hom = TRUE)", [("0 + f", ("g",), "cs", True)]),
    ("y ~ ar1(0 + f | g)", [("0 + f", ("g",), "ar1", True)]),
    ("y ~ ar1(0 + f | g, hom=FALSE)", [("0 + f", ("g",), "ar1", False)]),
    ("y ~ toep(0 + f | g)", [("0 + f", ("g",), "toep", False)]),
    ("y ~ toep(0 + f | g, hom=T)", [("0 + f", ("g",), "toep", True)]),
    ("y ~ homcs(0 + f | g)", [("0 + f", ("g",), "cs", True)]),
    ("y ~ hetar1(0 + f | g)", [("0 + f", ("g",), "ar1", False)]),
    (
        "y ~ ar1(0 + f | a/b)",
        [("0 + f", ("a",), "ar1", True), ("0 + f", ("a", "b"), "ar1", True)],
    ),
    (
        "y ~ x + (1 | h) + cs(0 + f | g:h)",
        [("1", ("h",), "", None), ("0 + f", ("g", "h"), "cs", False)],
    ),
    ("y ~ I(a | b) + (1 | g)", [("1", ("g",), "", None)]),  # Python's `|` in the fixed part
]


@pytest.mark.parametrize(("formula", "expected"), PARSE_CASES)
def test_parse_structured_terms(
    formula: str, expected: list[tuple[str, tuple[str, ...], str, bool | None]]
) -> None:
    parsed = parse_formula(formula)
    got = [(t.expr, t.group, t.structure, t.hom) for t in parsed.random]
    assert got == expected
    assert parse_formula(parsed.to_string()) == parsed  # the text round trip keeps structures


def test_structured_term_text() -> None:
    parsed = parse_formula("y ~ ar1(0 + f | g) + diag(x | g)")
    assert parsed.to_string() == "y ~ 1 + ar1(0 + f | g, hom=True) + diag(x | g, hom=False)"
    assert parse_formula("y ~ us(x | g)") == parse_formula("y ~ (x | g)")
    assert parse_formula("y ~ ar1(0 + f | g)") != parse_formula("y ~ (0 + f | g)")
    assert parse_formula("y ~ cs(f | g)") != parse_formula("y ~ cs(f | g, hom=True)")


ERROR_CASES = [
    ("y ~ foo(x | g)", r"structure 'foo' in 'foo\(x \| g\)' is unknown"),
    ("y ~ ou(times + 0 | g)", r"structure 'ou' .* is not supported"),
    ("y ~ us(x | g, hom=True)", r"'hom=' in 'us\(x \| g, hom=True\)' does not apply to us"),
    ("y ~ homcs(f | g, hom=False)", r"homcs\(\) already sets it"),
    ("y ~ ar1(0 + f | g, hom=yes)", r"'hom' in .* must be True or False, not 'yes'"),
    ("y ~ ar1(0 + f | g, het=True)", r"unknown argument 'het=True' in 'ar1"),
    ("y ~ ar1(0 + f || g)", r"'\|\|' inside 'ar1\(0 \+ f \|\| g\)'"),
    ("y ~ x - ar1(0 + f | g)", r"cannot be subtracted: '- ar1\(0 \+ f \| g\)'"),
    ("y ~ cs(0 + f | )", r"empty grouping factor"),
    ("y ~ cs( | g)", r"empty left side"),
    ("y ~ toep(0 + f | g + h)", r"grouping factor .* only column names"),
]


@pytest.mark.parametrize(("formula", "message"), ERROR_CASES)
def test_parse_errors_name_the_term(formula: str, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        parse_formula(formula)


def test_safe_mode_accepts_structured_terms() -> None:
    cols = ["y", "x", "f", "g"]
    parsed = check_safe_formula("y ~ x + ar1(0 + f | g, hom=TRUE) + cs(np.log(x) | g)", cols)
    assert [t.structure for t in parsed.random] == ["ar1", "cs"]
    with pytest.raises(FormulaError, match=r"safe mode: '__import__\(\"os\"\)' is not allowed"):
        check_safe_formula('y ~ ar1(0 + __import__("os") | g)', cols)
    with pytest.raises(FormulaError, match="'h' is not a column"):
        check_safe_formula("y ~ cs(0 + f | h)", cols)


# ----------------------------------------------------------------------------- engine maps
@pytest.mark.parametrize("hom", [True, False])
@pytest.mark.parametrize("kind", ["diag", "cs", "ar1", "toep"])
def test_template_is_sds_times_correlation(kind: str, hom: bool) -> None:
    k = 4
    st = make_structure(kind, k, hom)
    rng = np.random.default_rng(1)
    sds = rng.uniform(0.5, 2.0, st.n_sd)
    cor = {"diag": [], "cs": [0.3], "ar1": [-0.6], "toep": [0.5, -0.2, 0.3]}[kind]
    T = st.template(np.concatenate([sds, cor]))
    assert np.allclose(np.triu(T, 1), 0.0)
    d = np.full(k, sds[0]) if hom else sds
    lag = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    if kind == "diag":
        P = np.eye(k)
    elif kind == "cs":
        P = np.where(lag == 0, 1.0, 0.3)
    elif kind == "ar1":
        P = (-0.6) ** lag
    else:
        P = pacf_to_acf(np.array(cor))[lag]
    np.testing.assert_allclose(T @ T.T, d[:, None] * P * d[None, :], atol=1e-14)
    np.testing.assert_allclose(st.sdcor(T @ T.T), np.concatenate([sds, cor]), atol=1e-12)


def test_toeplitz_partial_autocorrelations() -> None:
    # fev's toep (notes/covariance-research.md): ρ (.2285, .1309, .1679), π (.2285, .0831, .1291)
    np.testing.assert_allclose(
        pacf_to_acf(np.array([0.2285, 0.0831, 0.1291]))[1:], [0.2285, 0.1309, 0.1679], atol=2e-4
    )
    pacf = np.array([0.9, -0.95, 0.7, 0.99])
    np.testing.assert_allclose(acf_to_pacf(pacf_to_acf(pacf)[1:]), pacf, atol=1e-10)
    T = make_structure("toep", 5, True).template(np.array([1.0, *pacf]))
    assert np.all(np.isfinite(T)) and np.all(np.diag(T) > 0)  # positive definite in the box


def test_bounds_and_boundary_templates() -> None:
    cs = make_structure("cs", 3, False)
    np.testing.assert_array_equal(cs.lower(), [0, 0, 0, -0.5])
    np.testing.assert_array_equal(cs.upper(), [np.inf, np.inf, np.inf, 1.0])
    for rho in (-0.5, 1.0):  # singular ends of the box: still a factor of P
        T = cs.template(np.array([1.0, 1.0, 1.0, rho]))
        np.testing.assert_allclose(T @ T.T, np.where(np.eye(3) == 1, 1.0, rho), atol=1e-12)
    ar1 = make_structure("ar1", 3, True)
    np.testing.assert_allclose(
        ar1.template(np.array([2.0, 1.0])) @ ar1.template(np.array([2.0, 1.0])).T,
        np.full((3, 3), 4.0),
    )
    assert ar1.labels(["a", "b", "c"]) == ["sd", "rho"]
    assert make_structure("toep", 3, False).labels(["a", "b", "c"]) == [
        "sd_a",
        "sd_b",
        "sd_c",
        "pacf_1",
        "pacf_2",
    ]
    with pytest.raises(ValueError, match="at least 2 columns"):
        make_structure("ar1", 1, True)
    assert isinstance(cs, CovStructure)


def test_layout_of_a_structured_term() -> None:
    from mixedfit.engine.reterm import ReTerm, ThetaLayout

    refs = np.repeat(np.arange(5), 3)
    plain = ReTerm(refs, np.ones((15, 1)), 5)
    ar1 = ReTerm(
        refs, np.eye(3)[np.tile(np.arange(3), 5)], 5, structure=make_structure("ar1", 3, True)
    )
    layout = ThetaLayout((plain, ar1))
    assert layout.size == 3 and layout.offsets == (0, 1) and layout.structured
    np.testing.assert_array_equal(layout.lower(), [0, 0, -1])
    np.testing.assert_array_equal(layout.upper(), [np.inf, np.inf, 1])
    np.testing.assert_array_equal(layout.diagonal_mask(), [True, True, False])
    np.testing.assert_array_equal(layout.start(), [1, 1, 0])
    T = layout.templates(np.array([2.0, 3.0, 0.5]))[1]
    np.testing.assert_allclose(T @ T.T, 9 * 0.5 ** np.abs(np.subtract.outer(range(3), range(3))))
    assert not layout.structured_singular(np.array([2.0, 3.0, 0.5]), 1e-4)
    assert layout.structured_singular(np.array([2.0, 3.0, 1.0]), 1e-4)  # ρ = 1: P singular
    assert layout.structured_singular(np.array([2.0, 0.0, 0.5]), 1e-4)
    with pytest.raises(NotImplementedError, match="structured random-effects terms"):
        _ = ar1.theta_index


# ----------------------------------------------------------------------------- references
def _check_reference(fit: Any, ref: dict[str, Any]) -> None:
    assert fit.reml == ref["reml"] and fit.nobs == ref["nobs"]
    assert math.isclose(fit.loglik, ref["loglik"], rel_tol=1e-6)
    assert fit.dof == ref["npar"]["package_df"]
    beta = pd.Series(ref["beta"])
    se = pd.Series(ref["se"])
    table = fit.coef_table(ddf="none")
    est, got_se = table["estimate"].to_numpy(), table["std_error"].to_numpy()
    tol = 1e-4 * np.maximum(np.abs(beta.to_numpy()), se.to_numpy())
    assert np.all(np.abs(est - beta.to_numpy()) <= tol)
    np.testing.assert_allclose(got_se, se.to_numpy(), rtol=1e-4)
    assert math.isclose(fit.sigma, ref["sigma"], rel_tol=1e-4)
    (group,) = ref["params"]["random"]
    want = ref["params"]["random"][group]
    S = fit.covariances[group].to_numpy()
    sd = np.sqrt(np.diag(S))
    np.testing.assert_allclose(sd, list(want["sd"].values()), rtol=1e-4)
    np.testing.assert_allclose(S / np.outer(sd, sd), want["cor"], atol=1e-4)


@pytest.mark.parametrize("rid", REFERENCES)
def test_glmmtmb_reference(rid: str, fitted: Callable[..., Any]) -> None:
    ref = json.loads((REF / f"{rid}.json").read_text())
    call = ref["python"]
    assert call["residual"] is None
    fit = fitted(call["formula"], call["reml"])
    _check_reference(fit, ref)


def test_ar1_reference_parameters(fitted: Callable[..., Any]) -> None:
    ref = json.loads((REF / "sleepstudy_tmb_ar1_reml.json").read_text())
    fit = fitted(ref["python"]["formula"], True)
    assert fit.theta_names == ["Subject.sd", "Subject.rho"]
    # glmmTMB's theta: (log sd, ρ/√(1−ρ²)); ours: (sd/σ, ρ)
    log_sd, c = ref["params"]["theta"]
    rho = c / math.sqrt(1 + c * c)
    np.testing.assert_allclose(fit.theta, [math.exp(log_sd) / ref["sigma"], rho], rtol=1e-5)
    assert fit.structures == {"Subject": f"ar1, ρ = {rho:.3f}"}
    assert "ar1, ρ = 0.880" in str(fit.summary()) and "ar1, ρ = 0.880" in repr(fit)


def test_ar1_reml_restarts_away_from_sigma_zero(sleep: pd.DataFrame) -> None:
    """From sd/σ = 1000 BOBYQA stops at the local optimum σ → 0 (ℓ = −841.58, glmmTMB's default
    start ends there too); the restart (a structured sd above LARGE_RELATIVE_SD) finds −839.36."""
    ref = json.loads((REF / "sleepstudy_tmb_ar1_reml.json").read_text())
    fit = mf.lmer(ref["python"]["formula"], sleep, reml=True, start=[1000.0, 0.9])
    assert math.isclose(fit.loglik, ref["loglik"], rel_tol=1e-6)
    assert fit.optimizer.start == "rescaled lme4"
    assert math.isclose(fit.sigma, ref["sigma"], rel_tol=1e-4)


# ----------------------------------------------------------------------------- equivalences
@pytest.fixture(scope="module")
def cs_and_us(sleep: pd.DataFrame) -> tuple[Any, Any]:
    """cs(1 + Days | Subject) with two heterogeneous sds is the unstructured model."""
    return (
        mf.lmer("Reaction ~ Days + cs(1 + Days | Subject)", sleep),
        mf.lmer("Reaction ~ Days + (1 + Days | Subject)", sleep),
    )


def test_cs_of_two_columns_is_unstructured(cs_and_us: tuple[Any, Any]) -> None:
    cs, us = cs_and_us
    assert math.isclose(cs.loglik, us.loglik, rel_tol=1e-10)
    assert cs.dof == us.dof
    np.testing.assert_allclose(cs.varcorr["sdcor"], us.varcorr["sdcor"], rtol=1e-4)


def test_satterthwaite_through_the_structured_criterion(cs_and_us: tuple[Any, Any]) -> None:
    cs, us = cs_and_us
    a, b = cs.coef_table(), us.coef_table()
    np.testing.assert_allclose(a["df"], b["df"], rtol=1e-4)
    np.testing.assert_allclose(a["p"], b["p"], rtol=1e-4)
    np.testing.assert_allclose(cs.anova()["dendf"], us.anova()["dendf"], rtol=1e-4)


def test_satterthwaite_with_a_correlation_near_its_bound() -> None:
    """ρ̂ = 0.976: numDeriv's 10 % steps would leave the box (ρ > 1) and gave df 28.10 instead of
    us's 29.00; the derivatives are taken in atanh coordinates (invariant df)."""
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(30), 8)
    x = np.tile(np.arange(8), 30).astype(float)
    b = rng.standard_normal((30, 2)) @ np.linalg.cholesky([[4.0, 0.97], [0.97, 0.25]]).T
    y = 1 + 0.5 * x + b[g, 0] + b[g, 1] * x + 0.5 * rng.standard_normal(len(g))
    df = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    cs = mf.lmer("y ~ x + cs(1 + x | g)", df)
    us = mf.lmer("y ~ x + (1 + x | g)", df)
    assert cs.theta[2] > 0.97
    np.testing.assert_allclose(cs.coef_table()["df"], us.coef_table()["df"], rtol=1e-4)
    np.testing.assert_allclose(cs.coef_table()["df"], [29.0, 29.0], rtol=1e-4)


def test_profile_intervals_through_the_structured_criterion(cs_and_us: tuple[Any, Any]) -> None:
    cs, us = cs_and_us
    a, b = cs.confint(method="profile"), us.confint(method="profile")
    assert list(a.index[:4]) == [
        "sd_(Intercept)|Subject",
        "sd_Days|Subject",
        "rho|Subject",
        "sigma",
    ]
    assert list(b.index[:4]) == [
        "sd_(Intercept)|Subject",
        "cor_Days.(Intercept)|Subject",
        "sd_Days|Subject",
        "sigma",
    ]
    order = [0, 2, 1, 3, 4, 5]  # us's sd, cor, sd → cs's sd, sd, rho
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy()[order], rtol=2e-3, atol=2e-3)


def test_diag_is_double_bar(sleep: pd.DataFrame) -> None:
    diag = mf.lmer("Reaction ~ Days + diag(Days | Subject)", sleep)
    bars = mf.lmer("Reaction ~ Days + (Days || Subject)", sleep)
    assert math.isclose(diag.loglik, bars.loglik, rel_tol=1e-10)
    assert diag.structures == {"Subject": "diag"}
    assert list(diag.covariances) == ["Subject"]  # one term, where || gives two
    hom = mf.lmer("Reaction ~ Days + diag(Days | Subject, hom=True)", sleep)
    assert hom.theta_names == ["Subject.sd"] and len(hom.theta) == 1
    S = hom.covariances["Subject"].to_numpy()
    assert S[0, 0] == S[1, 1] and S[0, 1] == 0.0


def test_lrt_between_structures(fitted: Callable[..., Any]) -> None:
    refs = {
        r: json.loads((REF / f"sleepstudy_tmb_{r}_ml.json").read_text()) for r in ("diag", "cs")
    }
    fits = [fitted(refs[r]["python"]["formula"], False) for r in ("diag", "cs")]
    table = mf.anova(*fits)
    chisq = 2 * (refs["cs"]["loglik"] - refs["diag"]["loglik"])
    assert table["chisq"].iloc[-1] == pytest.approx(chisq, rel=1e-4)
    assert table["df"].iloc[-1] == 1


def test_save_and_load(fitted: Callable[..., Any], tmp_path: Path) -> None:
    fit = fitted("Reaction ~ Daysf + ar1(0 + Daysf | Subject)")
    path = tmp_path / "ar1.mfit"
    fit.save(path)
    back = mf.load_fit(path)
    assert back.loglik == fit.loglik
    np.testing.assert_array_equal(back.theta, fit.theta)
    assert back.structures == fit.structures


def test_toep_fits_and_homogeneous_toep_of_ar1_data(fitted: Callable[..., Any]) -> None:
    ar1 = fitted("Reaction ~ Daysf + ar1(0 + Daysf | Subject)", False)
    toep = fitted("Reaction ~ Daysf + toep(0 + Daysf | Subject, hom=True)", False)
    assert toep.theta_names[:2] == ["Subject.sd", "Subject.pacf_1"] and len(toep.theta) == 10
    assert toep.loglik >= ar1.loglik - 1e-6  # toep nests ar1 (π_1 = ρ, other π = 0)
    assert toep.structures["Subject"].startswith("toep (homogeneous), ρ(lag 1..9) = ")


@pytest.mark.parametrize("reml", [False, True])
def test_toep_plus_sigma_is_residual_toeplitz(
    sleep: pd.DataFrame, fitted: Callable[..., Any], reml: bool
) -> None:
    """No toep reference (glmmTMB 1.1.5's toep fails with NaN Hessians on these data), so the
    G-side toep is checked against the R-side Toeplitz (itself checked against mmrm): with one
    effect per observation, s²P + σ²I spans every positive definite Toeplitz V, so both reach
    the same optimum (as the ar1 references are crosschecked against nlme's corExp + nugget)."""
    g = fitted("Reaction ~ Daysf + toep(0 + Daysf | Subject, hom=True)", reml)
    r = mf.gls("Reaction ~ Daysf", sleep, residual=mf.Toeplitz("Daysf", "Subject"), reml=reml)
    assert math.isclose(g.loglik, r.loglik, rel_tol=1e-8)
    a, b = g.coef_table(ddf="none"), r.coef_table(ddf="none")
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-5)
    np.testing.assert_allclose(a["std_error"], b["std_error"], rtol=1e-3)


# ----------------------------------------------------------------------------- refusals
def test_structures_need_two_columns(sleep: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"'cs\(1 \| Subject\)' has 1 column.* at least 2"):
        mf.lmer("Reaction ~ Days + cs(1 | Subject)", sleep)


def test_kenward_roger_with_structured_terms(fitted: Callable[..., Any]) -> None:
    # was refused (NotImplementedError); ar1 gets mmrm's adjustment (tests/test_structured_kr.py)
    fit = fitted("Reaction ~ Daysf + ar1(0 + Daysf | Subject)")
    kr, sat = fit.coef_table(ddf="kenward-roger"), fit.coef_table(ddf="satterthwaite")
    # one-row KR df are the residual machinery's Satterthwaite df: equal to the ordinary
    # Satterthwaite's up to the fits' optima (were 3e-3 apart;
    # tests/test_structured_satterthwaite.py)
    assert np.allclose(kr["df"], sat["df"], rtol=5e-5)
