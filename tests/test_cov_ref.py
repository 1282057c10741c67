"""nlme's reference level of a variance function (issue 12, reviewer r12's findings 1 and 4).

σ is the sd of the reference level, whose ratio is 1: nlme's is the level of the first row after
``lme`` sorts the rows by the random-effects groupings, outer to inner (by the correlation's
grouping when that is finer), and after ``gls`` sorts them by the correlation's subject
(mixedfit.covariance.reference). The references (tests/reference/cov_ref/make_cov_ref.R) use data
whose first row is not the first after that sort: sleepstudy with its last row moved to the top
(A), Pixel, whose dog 1 starts with side R (B), and the reviewer's shuffled repeated measures
with subjects nested in sites (C; D for the unstructured, CSH and ARH(1) variances). Each fit is
compared with nlme's σ, sd ratios (by level, the reference 1), correlation parameters, β and
loglik at issue 12's tolerances.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.covariance.reference import first_row, order_key, outer_to_inner

REF = Path(__file__).parent / "reference" / "cov_ref"
CASES = json.loads((REF / "cov_ref.json").read_text())


def load(ref: dict[str, Any]) -> pd.DataFrame:
    """The reference's data, its factors with R's level order."""
    df = pd.read_csv(REF / ref["data"], dtype={k: str for k in ref["levels"]})
    for column, levels in ref["levels"].items():
        df[column] = pd.Categorical(df[column], categories=levels)
    return df


def fit_case(ref: dict[str, Any], df: pd.DataFrame | None = None) -> Any:
    py = ref["python"]
    structure = eval(py["residual"], {"mf": mf})  # the reference's Python spelling (trusted)
    data = load(ref) if df is None else df
    return mf.lmer(py["formula"], data, reml=py["reml"], residual=structure)


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Any]:
    ref = CASES[request.param]
    return ref, fit_case(ref)


def test_loglik_and_beta(fitted: Any) -> None:
    ref, fit = fitted
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    beta = np.array(list(ref["beta"].values()))
    assert np.allclose(fit.fixef.to_numpy(), beta, rtol=1e-4, atol=1e-4 * np.abs(beta).max())


def test_sigma_is_the_sd_of_nlmes_reference_level(fitted: Any) -> None:
    ref, fit = fitted
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)


def test_sd_ratios_by_level(fitted: Any) -> None:
    ref, fit = fitted
    mine = fit.residual.params
    for level, ratio in (ref["ratios"] or {}).items():
        if ratio == 1:
            assert mine[level] == 1.0, level  # the same reference level, exactly
        else:
            assert mine[level] == pytest.approx(ratio, rel=2e-3), level


def test_correlation_parameters(fitted: Any) -> None:
    ref, fit = fitted
    mine, cor = fit.residual.params, ref["cor"]
    if cor is None:
        assert not [k for k in mine.index if k in ("Phi", "Rho") or k.startswith("cor(")]
    elif isinstance(cor, dict):  # Phi (nlme's corAR1: Phi1), Rho
        for name, value in cor.items():
            assert mine[name.replace("Phi1", "Phi")] == pytest.approx(value, abs=2e-3), name
    else:  # corSymm: the lower triangle column by column
        m = len(ref["ratios"])
        names = [f"cor({i},{j})" for j in range(1, m) for i in range(j + 1, m + 1)]
        assert np.allclose([mine[n] for n in names], cor, atol=2e-3)


def test_unstructured_ratios_are_named_by_level() -> None:
    ref = CASES["D_rm_gls_un_ml"]
    fit = mf.gls("y ~ visitf * arm", load(ref), residual=mf.Unstructured("visitf", "id"))
    params = fit.residual.params
    assert [k for k in params.index if not k.startswith("cor(")] == [f"V{i}" for i in range(1, 7)]
    rows = fit.tidy(effects="ran_pars")
    varfun = [t for t in rows["term"] if t.startswith("varfun__")]
    assert varfun == [f"varfun__V{i}" for i in range(1, 7)]
    assert params["V5"] == 1.0  # the first row of subject s001 (gls sorts by subject)


def test_sorted_rows_give_the_same_fit() -> None:
    """Sorting the rows as nlme does changes nothing (the reference is the same row)."""
    ref = CASES["B_pixel_nested_varident"]
    df = load(ref)
    fit = fit_case(ref, df)
    again = fit_case(ref, df.sort_values(["Dog", "Side"], kind="stable"))
    assert again.sigma == pytest.approx(fit.sigma, rel=1e-6)
    assert again.residual.params["R"] == pytest.approx(fit.residual.params["R"], rel=1e-6)
    assert fit.residual.params["L"] == 1.0


def test_saved_fit_keeps_the_reference(tmp_path: Path) -> None:
    ref = CASES["A_sleep_ri_varident"]
    fit = fit_case(ref)
    path = tmp_path / "fit.json"
    fit.save(path)
    loaded = mf.load_fit(path)
    assert loaded.sigma == fit.sigma
    pd.testing.assert_series_equal(loaded.residual.params, fit.residual.params)


def test_groupings_outer_to_inner_and_crossed() -> None:
    site = np.array([1, 1, 0, 0, 1, 0])
    inner = np.array([3, 2, 1, 0, 2, 0])  # site:id, nested
    item = np.array([0, 1, 0, 1, 0, 0])  # crossed with site
    assert [k.tolist() for k in outer_to_inner([inner, site, inner], [2, 1, 2])] == [
        site.tolist(),
        inner.tolist(),
    ]
    assert outer_to_inner([site, item], [1, 1]) == []  # crossed: no order
    keys = outer_to_inner([inner, site], [2, 1])
    assert first_row(keys) == 3 and first_row([]) == 0
    assert order_key([]) is None
    assert np.argsort(order_key(keys), kind="stable")[0] == 3


def test_crossed_groupings_take_the_first_row() -> None:
    """nlme cannot fit crossed random effects: without a correlation the reference is the first
    row's level (mixedfit.covariance.reference), whatever the order of the terms."""
    df = mf.load_dataset("penicillin")
    df["half"] = np.where(df["diameter"] > df["diameter"].median(), "hi", "lo")
    df = df.iloc[::-1].reset_index(drop=True)
    a = mf.lmer("diameter ~ 1 + (1|plate) + (1|sample)", df, residual=mf.VarIdent("half"))
    b = mf.lmer("diameter ~ 1 + (1|sample) + (1|plate)", df, residual=mf.VarIdent("half"))
    first = df["half"].iloc[0]
    assert a.residual.params[first] == 1.0 and b.residual.params[first] == 1.0
    assert a.sigma == pytest.approx(b.sigma, rel=1e-6)


def test_unstructured_jacobian_with_another_reference() -> None:
    """The analytic gradient's ∂Λ/∂φ of an unstructured part whose reference is not the first
    level (its Cholesky factor is over the levels with the reference first)."""
    from mixedfit.engine.residual.gradient import level_jacobian
    from mixedfit.engine.residual.unstructured import UnstructuredPart

    m = 5
    part = UnstructuredPart(np.arange(m), m, reference=3)
    phi = np.random.default_rng(5).normal(0.0, 0.5, part.size)
    assert part.level_matrix(phi)[3, 3] == pytest.approx(1.0)
    J, h = level_jacobian(part, phi), 1e-6
    for k in range(part.size):
        e = np.zeros(part.size)
        e[k] = h
        fd = (part.level_matrix(phi + e) - part.level_matrix(phi - e)) / (2 * h)
        np.testing.assert_allclose(J[k], fd, atol=1e-8)
    assert part.report(phi)["4"] == 1.0  # labels default to "1", "2", ...


def test_ordinary_fit_has_no_residual_structure() -> None:
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    assert fit.residual is None


def test_subject_ids_reused_across_sites_get_a_hint() -> None:
    """The reviewer's data with ids reused in every site: the message says how to make a unique
    subject (nlme's site/id), and that subject fits as nlme's corCAR1(~visit | site/id)."""
    ref = CASES["C_rm_site_car1_varident"]
    df = load(ref)
    df["local"] = df.groupby("site", observed=True)["id"].transform(
        lambda s: pd.factorize(s, sort=True)[0]
    )
    structure = mf.CAR1(time="visit", subject="local") & mf.VarIdent("visitf")
    with pytest.raises(mf.DataError, match=r"repeat across groups.*df\['site_id'\]"):
        mf.lmer(ref["python"]["formula"], df, residual=structure)
    df["site_id"] = df["site"].astype(str) + ":" + df["local"].astype(str)
    structure = mf.CAR1(time="visit", subject="site_id") & mf.VarIdent("visitf")
    fit = mf.lmer(ref["python"]["formula"], df, residual=structure)
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)


@pytest.mark.parametrize("by", [None, "arm"])
def test_unstructured_kenward_roger_does_not_depend_on_row_order(by: str | None) -> None:
    """mmrm's KR uses the Cholesky factor of Σ in level order (its R_hj term depends on that
    scale): the same with nlme's reference at V5 (shuffled rows) as at V1 (rows sorted by
    subject and visit). Was 2.8e-3 apart on the FEV data's SEs (tests/test_residual_kr.py)."""
    ref = CASES["D_rm_gls_un_ml"]
    df = load(ref)
    ordered = df.sort_values(["id", "visit"]).reset_index(drop=True)
    structure = mf.Unstructured("visitf", "id", by=by)
    a = mf.gls("y ~ visitf * arm", df, residual=structure)
    b = mf.gls("y ~ visitf * arm", ordered, residual=structure)
    assert a.sigma != pytest.approx(b.sigma, rel=1e-2)  # another reference level
    ta, tb = a.coef_table(ddf="kenward-roger"), b.coef_table(ddf="kenward-roger")
    np.testing.assert_allclose(ta["std_error"], tb["std_error"], rtol=1e-6)
    np.testing.assert_allclose(ta["df"], tb["df"], rtol=1e-5)
