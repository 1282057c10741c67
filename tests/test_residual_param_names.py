"""``fit.residual.params`` names are unique (issue 12, session 8's "noticed and left").

Every part reports under nlme's names, and the names of two parts could collide: an
unstructured structure's sd ratios over time levels "1", "2", "3" and a VarIdent whose levels are
"1", "2" (one value silently shadowed the other in the Series, and the profile and bootstrap,
which read the parameters by position, took the wrong ones). Now the names of each part involved
in a collision are qualified by the column its strata are levels of (``t=1``, ``g=1``), or by its
kind (``correlation=Rho``, ``varPower=power``); names that do not collide stay nlme's.

The table covers every kind of part that reports level labels (VarIdent; the time strata of a
heterogeneous CS, AR1, Toeplitz, ante-dependence; the unstructured sd ratios; a ``by=`` group's
variance, alone and by time cell; ``by=`` unstructured) against a VarIdent over another column
(the combinations mixedfit accepts), and level labels equal to a correlation parameter's or a
variance function's name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf


def data() -> pd.DataFrame:
    """40 subjects × 3 visits; g, h vary within subject, arm does not; levels "1", "2"."""
    rng = np.random.default_rng(12)
    n, m = 40, 3
    sid = np.repeat(np.arange(n), m)
    t = np.tile(np.arange(m), n)
    arm = (sid % 2).astype(int)
    g = rng.integers(0, 2, n * m)
    h = rng.integers(0, 2, n * m)
    b = rng.normal(0, 1, n)[sid]
    e = rng.normal(0, 1, n * m) * (1 + 0.5 * g) * (1 + 0.3 * t)
    df = pd.DataFrame(
        {
            "y": 10 + 0.5 * t + b + e,
            "x": t + 1.0,
            "id": pd.Categorical([f"s{i:02d}" for i in sid]),
            "t": pd.Categorical([str(v + 1) for v in t]),
            "arm": pd.Categorical([str(v + 1) for v in arm]),
            "g": pd.Categorical([str(v + 1) for v in g]),
            "h": pd.Categorical([str(v + 1) for v in h]),
            "kphi": pd.Categorical(np.where(g == 1, "Phi", "a")),
            "krho": pd.Categorical(np.where(g == 1, "Rho", "a")),
            "kpow": pd.Categorical(np.where(g == 1, "power", "a")),
        }
    )
    return df


T = ["t=1", "t=2", "t=3"]
G = ["g=1", "g=2"]
UN_COR = ["cor(2,1)", "cor(3,1)", "cor(3,2)"]
CASES = {
    "UN & VarIdent(g)": (mf.Unstructured("t", "id") & mf.VarIdent("g"), UN_COR + T + G),
    "CSH & VarIdent(g)": (
        mf.CompoundSymmetry("id", time="t", heterogeneous=True) & mf.VarIdent("g"),
        ["Rho", *T, *G],
    ),
    "ARH & VarIdent(g)": (
        mf.AR1("t", "id", heterogeneous=True) & mf.VarIdent("g"),
        ["Phi", *T, *G],
    ),
    "TOEPH & VarIdent(g)": (
        mf.Toeplitz("t", "id", heterogeneous=True) & mf.VarIdent("g"),
        ["Rho1", "Rho2", *T, *G],
    ),
    "ANTE & VarIdent(g)": (
        mf.AnteDependence("t", "id") & mf.VarIdent("g"),
        ["Rho1", "Rho2", *T, *G],
    ),
    "VarIdent(g) & VarIdent(h)": (mf.VarIdent("g") & mf.VarIdent("h"), [*G, "h=1", "h=2"]),
    "AR1(by=arm) & VarIdent(g)": (
        mf.AR1("t", "id", by="arm") & mf.VarIdent("g"),
        ["1:Phi", "2:Phi", "arm=1", "arm=2", *G],
    ),
    "UN(by=arm) & VarIdent(g)": (
        mf.Unstructured("t", "id", by="arm") & mf.VarIdent("g"),
        [
            *[f"{a}:{c}" for a in "12" for c in UN_COR],
            *[f"{a}:{k}" for a in "12" for k in "123"],
            "arm=1",
            "arm=2",
            *G,
        ],
    ),
    "CS & VarIdent(level Rho)": (
        mf.CompoundSymmetry("id") & mf.VarIdent("krho"),
        ["correlation=Rho", "krho=a", "krho=Rho"],
    ),
    "AR1 & VarIdent(level Phi)": (
        mf.AR1("t", "id") & mf.VarIdent("kphi"),
        ["correlation=Phi", "kphi=a", "kphi=Phi"],
    ),
    "VarPower & VarIdent(level power)": (
        mf.VarPower("x") & mf.VarIdent("kpow"),
        ["varPower=power", "kpow=a", "kpow=power"],
    ),
    # no collision: nlme's names unchanged
    "UN & VarIdent(level Phi)": (
        mf.Unstructured("t", "id") & mf.VarIdent("kphi"),
        [*UN_COR, "1", "2", "3", "a", "Phi"],
    ),
    "CSH(by=arm) & VarIdent(g)": (
        mf.CompoundSymmetry("id", time="t", heterogeneous=True, by="arm") & mf.VarIdent("g"),
        ["1:Rho", "2:Rho", *[f"{a}:{k}" for a in "12" for k in "123"], "1", "2"],
    ),
}


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return data()


@pytest.mark.parametrize("case", sorted(CASES))
def test_names_unique_and_complete(df: pd.DataFrame, case: str) -> None:
    structure, expected = CASES[case]
    bound = structure.bind(df)
    model = bound.model
    phi = model.start() + np.random.default_rng(1).uniform(0.05, 0.2, model.size)
    report = model.report(phi)
    assert sorted(report) == sorted(expected)
    # one entry per parameter and per reference level (its ratio exactly 1): nothing shadowed
    n_fixed = sum(1 for v in report.values() if v == 1.0)
    assert len(report) == model.size + n_fixed


def _variance(fit: mf.ResidualMixedModel, df: pd.DataFrame, row: int) -> float:
    """σ̂²Λ_R's diagonal at ``row``, from the engine's covariance (not from the names)."""
    return float(fit._engine.residual_block(np.array([row]))[0, 0])


@pytest.mark.parametrize(
    ("structure", "factors"),
    [
        (mf.Unstructured("t", "id") & mf.VarIdent("g"), ("t", "g")),
        (mf.CompoundSymmetry("id", time="t", heterogeneous=True) & mf.VarIdent("g"), ("t", "g")),
        (mf.VarIdent("g") & mf.VarIdent("h"), ("g", "h")),
    ],
)
def test_fitted_values_by_qualified_name(
    df: pd.DataFrame, structure: mf.ResidualStructure, factors: tuple[str, str]
) -> None:
    """Each row's residual variance is σ̂² times the squared product of its levels' ratios, read
    by their qualified names (a shadowed ratio would break it)."""
    fit = mf.gls("y ~ t", df, residual=structure)
    params = fit.residual.params
    assert params.index.is_unique
    a, b = factors
    for row in range(0, len(df), 7):
        ratio = params[f"{a}={df[a].iloc[row]}"] * params[f"{b}={df[b].iloc[row]}"]
        assert _variance(fit, df, row) == pytest.approx(fit.sigma**2 * ratio**2, rel=1e-10)
    terms = [t for t in fit.tidy()["term"] if t.startswith(("cor__", "varfun__"))]
    assert len(terms) == len(set(terms)) == len(params)


def test_by_unstructured_ratios_are_variance_terms(df: pd.DataFrame) -> None:
    """A ``by=`` unstructured structure's sd ratios are ``varfun__`` terms in ``tidy`` (they
    were ``cor__``: the grouped part did not say which of its names are ratios)."""
    model = mf.Unstructured("t", "id", by="arm").bind(df).model
    kinds = {name: is_cor for name, _, is_cor in model.labelled(model.start())}
    assert kinds["1:cor(2,1)"] and kinds["2:cor(3,2)"]
    assert not kinds["1:2"] and not kinds["2:3"]
