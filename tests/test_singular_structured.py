"""Singular structured random-effects terms beside a residual structure are reported as lme4's
``isSingular`` (review rv12b LOW-2).

d10 (rv12b's simulated data), ``ar1(0 + occf | Subject, hom=False)`` + ``AR1(occ, Subject)``, REML:
R's dense optimum over many starts (tests/reference/ident/d10_R.jsonl) has the first occasion's
sd at 0 and ρ = 1, so the term's 5 × 5 covariance has rank 1 (an sd of 0 and a correlation of 1).
The fit reached it but gave no singular-fit warning and had no ``singular`` attribute.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "ident"


def _d10() -> pd.DataFrame:
    d = pd.read_csv(REF / "d10.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d


def _r(kind: str, reml: bool) -> dict:
    for line in (REF / "d10_R.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["kind"] == kind and r["reml"] == reml:
            return r
    raise AssertionError(f"no R reference for {kind}")


@pytest.fixture(scope="module")
def arh() -> tuple[mf.ResidualMixedModel, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            _d10(),
            residual=mf.AR1("occ", "Subject"),
        )
    return fit, list(seen)


def _covariance(fit: mf.ResidualMixedModel) -> np.ndarray:
    """The term's covariance matrix rebuilt from varcorr's variances and covariances."""
    vc = fit.varcorr
    vc = vc[vc.grp == "Subject"]
    cols = list(vc[vc.var2 == ""].var1)
    G = np.zeros((len(cols), len(cols)))
    for _, row in vc.iterrows():
        a = cols.index(row.var1)
        b = a if row.var2 == "" else cols.index(row.var2)
        G[a, b] = G[b, a] = row.vcov
    return G


def test_arh_fit_is_r_s_singular_optimum(arh) -> None:
    fit, _ = arh
    r = _r("arh", True)
    assert fit.loglik == pytest.approx(r["interior_loglik"], abs=1e-5)
    assert r["s"][0] < 1e-5 and r["rho"] > 1 - 1e-6  # R: sd 0 and ρ = 1 there
    eig = np.linalg.eigvalsh(_covariance(fit))
    assert eig[-2] < 1e-6 * eig[-1]  # rank one: singular


def test_singular_structured_term_is_reported_and_warned(arh) -> None:
    fit, seen = arh
    assert fit.singular
    assert fit.singular_terms == ["Subject: ar1 covariance singular (sd 0: occfo1; correlation +1)"]
    singular = [w for w in seen if issubclass(w.category, mf.SingularFitWarning)]
    assert len(singular) == 1
    assert "Subject: ar1 covariance singular" in str(singular[0].message)


def test_nonsingular_structured_fit_is_not_flagged() -> None:
    d = pd.read_csv(REF / "a10.csv")  # rv12b's a10: ρ̂ = −0.42, φ̂ = 0.65, sd 0.17 σ
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, residual=mf.AR1("occ", "Subject"))
    assert not fit.singular and fit.singular_terms == []
    assert not [w for w in seen if issubclass(w.category, mf.SingularFitWarning)]
    assert np.linalg.eigvalsh(_covariance(fit))[0] > 1e-3


def test_gls_without_random_effects_is_never_singular() -> None:
    fit = mf.gls("y ~ x", _d10(), residual=mf.AR1("occ", "Subject"))
    assert not fit.singular and fit.singular_terms == []


@pytest.mark.parametrize(
    ("kind", "hom", "psi", "expected"),
    [
        ("ar1", False, [0.0, 1.0, 1.0, 1.0], "sd 0: c0; correlation +1"),
        ("ar1", True, [1.0, -1.0], "correlation -1"),
        ("cs", True, [1.0, -0.5], "a zero eigenvalue of its correlation matrix"),  # ρ = −1/(k−1)
        ("toep", True, [1.0, 0.5, -1.0], "a zero eigenvalue of its correlation matrix"),  # π₂ = −1
        ("diag", False, [1.0, 0.0, 2.0], "sd 0: c1"),
    ],
)
def test_structured_singular_descriptions(kind: str, hom: bool, psi: list, expected: str) -> None:
    """What makes a structured term's covariance singular, read off its T (k = 3)."""
    from types import SimpleNamespace

    from mixedfit.engine.structures import CovStructure
    from mixedfit.model.singular import is_singular, singular_terms

    structure = CovStructure(kind, 3, hom)
    T = structure.template(np.array(psi, dtype=float))
    S = T @ T.T
    assert np.linalg.eigvalsh(S)[0] < 1e-10 * np.linalg.eigvalsh(S)[-1]  # singular indeed
    assert is_singular([T])
    spec = SimpleNamespace(columns=["c0", "c1", "c2"])
    term = SimpleNamespace(structure=structure)
    (text,) = singular_terms(["g"], [spec], [term], [T])
    assert text == f"g: {kind} covariance singular ({expected})"
