"""The fast path of the residual criterion (A(φ) from pattern statistics, engine/residual/
patterns.py) against the whitening path: the same criterion at random (θ, φ) for every shared
reference structure and for the layouts the fast path treats separately (Z shared by pattern or
not, cells merged under a coarse grouping, several terms, rows as units)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit.covariance as cov
from mixedfit.design import build_design
from mixedfit.engine.crossprod import GroupedCrossProducts, cross_products
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.residual import ResidualCriterion, fit_residual
from mixedfit.engine.reterm import ReTerm
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

HERE = Path(__file__).parent
REF = HERE / "reference" / "cov"
DATA = HERE / "data" / "cov"
SCHEMA = json.loads((DATA / "schema.json").read_text())
RESIDUAL = sorted(
    p.stem
    for p in REF.glob("*.json")
    if json.loads(p.read_text())["python"].get("residual") not in (None, "None")
)
NO_FAST_PATH: set[str] = set()  # every reference structure has keys with few patterns


def load(file: str) -> pd.DataFrame:
    (entry,) = [v for v in SCHEMA.values() if v["file"] == file]
    df = pd.read_csv(DATA / file, dtype={k: str for k in entry["factors"]})
    for k, levels in entry["factors"].items():
        df[k] = pd.Categorical(df[k], categories=levels)
    return df


def criteria(
    formula: str, df: pd.DataFrame, struct: cov.ResidualStructure
) -> tuple[ResidualCriterion, ResidualCriterion]:
    """(fast, whitening) criteria of a model; a formula without bars is a GLS model."""
    fast, slow, _, _ = problem(formula, df, struct)
    return fast, slow


def problem(
    formula: str, df: pd.DataFrame, struct: cov.ResidualStructure
) -> tuple[ResidualCriterion, ResidualCriterion, np.ndarray, np.ndarray]:
    """(fast, whitening) criteria, X and y of a model."""
    d = build_design(parse_formula(formula, allow_no_random=True), df)
    terms = engine_terms(d)
    frame = df.iloc[d.rows].reset_index(drop=True)
    model = struct.bind(frame).model
    y = d.y - d.offset
    return (
        ResidualCriterion(terms, d.X, y, model),
        ResidualCriterion(terms, d.X, y, model, fast=False),
        d.X,
        y,
    )


def assert_same_criterion(fast: ResidualCriterion, slow: ResidualCriterion, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = np.concatenate([np.zeros(slow.n_theta), slow.model.start()])
    for reml in (True, False):
        for _ in range(4):
            x = base + rng.normal(0.0, 0.4, len(base))
            x[: slow.n_theta] = np.abs(x[: slow.n_theta]) + 0.3
            try:
                expected = slow.objective(x, reml)
            except np.linalg.LinAlgError:
                with pytest.raises(np.linalg.LinAlgError):
                    fast.objective(x, reml)
                continue
            assert fast.objective(x, reml) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("rid", RESIDUAL)
def test_fast_path_matches_whitening_on_every_reference(rid: str) -> None:
    ref = json.loads((REF / f"{rid}.json").read_text())
    struct = eval(ref["python"]["residual"], {"mf": cov})
    fast, slow = criteria(ref["python"]["formula"], load(ref["data"]), struct)
    assert (fast.statistics is None) == (rid in NO_FAST_PATH)
    assert_same_criterion(fast, slow, seed=len(rid))


def _panel(n_subjects: int = 40, n_visits: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "id": np.repeat([f"s{i:02d}" for i in range(n_subjects)], n_visits),
            "t": np.tile(np.arange(1, n_visits + 1), n_subjects),
        }
    )
    df["clinic"] = df["id"].str[1:3].astype(int).map(lambda i: f"c{i % 4}")
    df["arm"] = df["id"].str[1:3].astype(int).map(lambda i: "A" if i % 2 else "B")
    df["x"] = rng.normal(size=len(df))
    df["dose"] = rng.choice([0.5, 1.0, 2.0], size=len(df))
    df["visit"] = pd.Categorical([f"v{t}" for t in df["t"]], [f"v{t}" for t in range(1, 6)])
    df["y"] = rng.normal(size=len(df)) + np.repeat(rng.normal(size=n_subjects), n_visits)
    keep = rng.random(len(df)) > 0.2
    keep[:n_visits] = [True, False, False, False, False]  # a subject with one row
    return df[keep].reset_index(drop=True)


CASES: dict[str, tuple[str, Any]] = {
    "RI + AR1 (Z shared by pattern)": ("y ~ x + (1 | id)", cov.AR1("t", "id")),
    "random slope on a non-key column": ("y ~ x + (1 + x | id)", cov.AR1("t", "id")),
    "coarse grouping (cells merged)": ("y ~ x + (1 | clinic)", cov.CompoundSymmetry("id")),
    "two nested terms": ("y ~ x + (1 | clinic) + (1 | id)", cov.AR1("t", "id")),
    "uncorrelated slope": ("y ~ x + (1 + x || id)", cov.Toeplitz("visit", "id")),
    "VarIdent alone + RI (rows as units)": ("y ~ x + (1 | id)", cov.VarIdent("visit")),
    "VarIdent alone + coarse grouping": ("y ~ x + (1 + x | clinic)", cov.VarIdent("arm")),
    "UN with a one-row subject": ("y ~ x * arm", cov.Unstructured("visit", "id")),
    "AR1 by arm & VarPower on a discrete dose": (
        "y ~ x",
        cov.AR1("t", "id", by="arm") & cov.VarPower("dose"),
    ),
    "CSH & VarExp": (
        "y ~ x",
        cov.CompoundSymmetry("id", time="visit", heterogeneous=True) & cov.VarExp("dose"),
    ),
    "ARH1": ("y ~ x + (1 | id)", cov.AR1("t", "id", heterogeneous=True)),
    "CAR1 & VarIdent": ("y ~ x", cov.CAR1("t", "id") & cov.VarIdent("arm")),
    "ARMA(1,1)": ("y ~ x + (1 | clinic)", cov.ARMA("t", "id", p=1, q=1)),
    "ante-dependence": ("y ~ x", cov.AnteDependence("visit", "id")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_matches_whitening_on_each_layout(case: str) -> None:
    formula, struct = CASES[case]
    fast, slow = criteria(formula, _panel(), struct)
    assert fast.statistics is not None
    assert_same_criterion(fast, slow, seed=len(case))


def test_structures_without_few_patterns_whiten() -> None:
    df = _panel()
    fast, slow = criteria("y ~ 1 + (1 | id)", df, cov.VarExp("x"))  # continuous: n patterns
    assert fast.statistics is None
    assert_same_criterion(fast, slow, seed=1)
    spatial, _ = criteria("y ~ 1", df, cov.Spatial(["x"], subject="id"))
    assert spatial.statistics is None


def test_fit_through_the_fast_path_equals_the_whitening_fit() -> None:
    df = _panel(60)
    for formula, struct in [
        ("y ~ x + (1 | id)", cov.AR1("t", "id")),
        ("y ~ x * arm", cov.Unstructured("visit", "id")),
    ]:
        fast, slow, X, y = problem(formula, df, struct)
        fit = fit_residual(fast.terms, X, y, fast.model)
        x = np.concatenate([fit.theta, fit.phi])
        assert fit.objective == pytest.approx(slow.objective(x, True), rel=1e-10)
        assert fit.objective == pytest.approx(fast.objective(x, True), rel=1e-10)
        assert fit.factor.X.shape[0] == len(fast.model.subject)  # the whitened rows' factor


def test_factor_from_cross_products_equals_the_factor_of_rows() -> None:
    rng = np.random.default_rng(5)
    n = 200
    g1, g2 = rng.integers(0, 10, n), rng.integers(0, 7, n)
    terms = [
        ReTerm(g1, np.column_stack([np.ones(n), rng.normal(size=n)]), 10),
        ReTerm(g2, np.ones((n, 1)), 7),
    ]
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.normal(size=n)
    rows = BlockedFactor(terms, X, y)
    A, nested = cross_products(rows.terms, np.column_stack([X, y]))
    built = BlockedFactor.from_cross_products(terms, A, nested, n)
    theta = np.array([0.8, 0.1, 0.5, 1.3])
    for reml in (True, False):
        assert built.objective(theta, reml) == pytest.approx(rows.objective(theta, reml), 1e-12)
    with pytest.raises(RuntimeError, match="cross products"):
        _ = built.X
    # refilled with the cross products of other rows: as a factor of those rows
    y2 = rng.normal(size=n)
    other = BlockedFactor(terms, X, y2)
    A2, _ = cross_products(other.terms, np.column_stack([X, y2]))
    built.set_cross_products(A2, 0.0)
    assert built.objective(theta, True) == pytest.approx(other.objective(theta, True), 1e-12)


def test_grouped_cross_products_equal_the_plain_ones() -> None:
    rng = np.random.default_rng(6)
    n = 150
    subject = rng.integers(0, 30, n)
    clinic = subject % 4
    terms = [
        ReTerm(subject, np.column_stack([np.ones(n), rng.normal(size=n)]), 30),
        ReTerm(clinic, np.ones((n, 1)), 4),
    ]
    Xy = rng.normal(size=(n, 3))
    A, nested = cross_products(terms, Xy)
    W = np.column_stack([terms[0].Z, terms[1].Z, Xy])
    G = np.zeros((30, 3, W.shape[1]))
    np.add.at(G, subject, W[:, :3, None] * W[:, None, :])
    grouped = GroupedCrossProducts(terms, subject)
    B = grouped.assemble(G, Xy.T @ Xy)
    assert grouped.nested == nested
    for key, block in A.items():
        dense = block if isinstance(block, np.ndarray) else block.toarray()
        other = B[key] if isinstance(B[key], np.ndarray) else B[key].toarray()
        np.testing.assert_allclose(other, dense, rtol=1e-12, atol=1e-12)
