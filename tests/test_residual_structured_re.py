"""Structured random-effects terms (``cs/ar1/toep/diag(..., hom=)``) together with ``residual=``.

Before: ``mf.lmer(..., residual=)`` refused every structured term but ``diag(hom=False)`` with
NotImplementedError. Each structured model is checked against the same model written with
ordinary terms (same likelihood, so the same optimum): cs on two columns with heterogeneous sds
is unstructured 2×2; ``diag(0 + f | g, hom=True)`` is ``(1 | g:f)``; ``cs(0 + f | g, hom=True)``
is ``(1 | g) + (1 | g:f)`` (ρ ≥ 0); ``diag(1 + x | g)`` is ``(1 + x || g)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    d = pd.read_csv(HERE / "data" / "cov" / "sleepstudy.csv")
    d["half"] = np.where(d["Days"] < 5, "early", "late")
    d["Subject"] = d["Subject"].astype(str)
    return d


def _structures() -> dict[str, mf.ResidualStructure]:
    return {"varident": mf.VarIdent("half"), "ar1": mf.AR1("Days", "Subject")}


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("structure", ["varident", "ar1"])
def test_cs_two_columns_equals_unstructured(
    sleep: pd.DataFrame, structure: str, reml: bool
) -> None:
    residual = _structures()[structure]
    cs = mf.lmer("Reaction ~ Days + cs(1 + Days | Subject)", sleep, residual=residual, reml=reml)
    us = mf.lmer("Reaction ~ Days + (1 + Days | Subject)", sleep, residual=residual, reml=reml)
    assert cs.converged and us.converged
    assert cs.loglik == pytest.approx(us.loglik, rel=1e-10)
    assert np.allclose(cs.fixef.to_numpy(), us.fixef.to_numpy(), rtol=1e-5)
    assert np.allclose(cs.residual.params.to_numpy(), us.residual.params.to_numpy(), rtol=1e-4)
    assert cs.sigma == pytest.approx(us.sigma, rel=1e-5)
    # the same G: variances (the correlation of a singular ar1 fit is ±1 either way)
    va = cs.varcorr.set_index(["grp", "var1", "var2"])["vcov"]
    vb = us.varcorr.set_index(["grp", "var1", "var2"])["vcov"]
    assert np.allclose(np.sort(va.to_numpy()), np.sort(vb.to_numpy()), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    ("structured", "ordinary"),
    [
        ("diag(0 + half | Subject, hom=True)", "(1 | Subject:half)"),
        ("cs(0 + half | Subject, hom=True)", "(1 | Subject) + (1 | Subject:half)"),
        ("diag(1 + Days | Subject)", "(1 + Days || Subject)"),
    ],
)
@pytest.mark.parametrize("reml", [True, False])
def test_homogeneous_terms_equal_ordinary_models(
    sleep: pd.DataFrame, structured: str, ordinary: str, reml: bool
) -> None:
    residual = mf.VarIdent("half")
    a = mf.lmer(f"Reaction ~ Days + {structured}", sleep, residual=residual, reml=reml)
    b = mf.lmer(f"Reaction ~ Days + {ordinary}", sleep, residual=residual, reml=reml)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-10)
    assert a.dof == b.dof
    assert np.allclose(a.fixef.to_numpy(), b.fixef.to_numpy(), rtol=1e-6)
    assert a.residual.params.iloc[1] == pytest.approx(b.residual.params.iloc[1], rel=1e-5)
    assert a.sigma == pytest.approx(b.sigma, rel=1e-5)


def test_cs_hom_variance_decomposition(sleep: pd.DataFrame) -> None:
    """cs(hom): ρσ_b² is the subject variance, (1 − ρ)σ_b² the subject:half one."""
    residual = mf.VarIdent("half")
    a = mf.lmer("Reaction ~ Days + cs(0 + half | Subject, hom=True)", sleep, residual=residual)
    b = mf.lmer("Reaction ~ Days + (1 | Subject) + (1 | Subject:half)", sleep, residual=residual)
    var_a = a.varcorr["vcov"].to_numpy()
    total, cov = var_a[0], var_a[2]  # half[early] variance, early/late covariance
    var_b = dict(zip(b.varcorr["grp"], b.varcorr["vcov"], strict=True))
    assert cov == pytest.approx(var_b["Subject"], rel=1e-5)
    assert total - cov == pytest.approx(var_b["Subject:half"], rel=1e-5)


def test_inference_paths(sleep: pd.DataFrame, tmp_path: Path) -> None:
    residual = mf.VarIdent("half")
    cs = mf.lmer("Reaction ~ Days + cs(1 + Days | Subject)", sleep, residual=residual)
    us = mf.lmer("Reaction ~ Days + (1 + Days | Subject)", sleep, residual=residual)
    # Satterthwaite over (log σ², θ, φ): df invariant to the parameterization of G
    ta, tb = cs.coef_table(), us.coef_table()
    assert np.allclose(ta["df"], tb["df"], rtol=1e-4)
    assert np.allclose(ta["std_error"], tb["std_error"], rtol=1e-5)
    # Kenward-Roger (was NotImplementedError): two-column cs is on the us term's τ scale
    ka, kb = cs.coef_table(ddf="kenward-roger"), us.coef_table(ddf="kenward-roger")
    assert np.allclose(ka["df"], kb["df"], rtol=1e-4)
    assert np.allclose(ka["std_error"], kb["std_error"], rtol=5e-5)
    # profile intervals of σ and the variance ratio: the same likelihood
    pa = cs.confint(method="profile", parm=["sigma", "late"])
    pb = us.confint(method="profile", parm=["sigma", "late"])
    assert np.allclose(pa.to_numpy(), pb.to_numpy(), rtol=1e-4)
    # save / load
    path = tmp_path / "cs.json"
    cs.save(path)
    back = mf.load_fit(path)
    assert back.loglik == cs.loglik
    assert np.array_equal(back.theta, cs.theta)
    assert "cs(1 + Days | Subject)" in back.formula
