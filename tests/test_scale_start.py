"""The moment start of fits from cross products (issue 14): the in-memory moment start
(engine/start.py) computed from A alone; fits from it reach the in-memory optimum in about the
in-memory fit's evaluations (before: lme4's T = I and a restart, ~1.5-3x as many)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, crossed

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine.lmm import weighted_factor
from mixedfit.engine.reterm import ThetaLayout
from mixedfit.engine.start import moment_start
from mixedfit.formula import parse_formula
from mixedfit.model.fit import engine_terms
from mixedfit.scale.fit import fit_cross_products
from mixedfit.scale.start import statistics_start

FORMULAS = [
    FORMULA,
    "y ~ x + (1 | user) + (1 | item)",
    "y ~ x + g + (1 | user) + (0 + x | user) + (1 | item)",
    "y ~ x + (1 | item/g) + (1 | user)",
]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    df = crossed(seed=3)
    df["w"] = np.random.default_rng(4).uniform(0.2, 3.0, len(df))
    return df


def _rows_start(
    formula: str, data: pd.DataFrame, weights: str | None, reml: bool = True
) -> np.ndarray:
    design = build_design(parse_formula(formula), data, weights=weights)
    factor = weighted_factor(
        engine_terms(design), design.X, design.y - design.offset, design.weights
    )
    return moment_start(factor.layout, factor.X, factor.y, reml=reml)


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("formula", FORMULAS)
def test_start_from_statistics_equals_start_from_rows(data, formula, weights, reml):
    cp = mf.crossproducts(formula, data, weights=weights)
    layout = ThetaLayout(tuple(engine_terms(cp.design)))
    expected = _rows_start(formula, data, weights, reml)
    got = statistics_start(cp, layout, reml)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_sleepstudy_start_and_fit():
    df = mf.load_dataset("sleepstudy")
    formula = "Reaction ~ Days + (Days | Subject)"
    cp = mf.crossproducts(formula, df)
    layout = ThetaLayout(tuple(engine_terms(cp.design)))
    np.testing.assert_allclose(
        statistics_start(cp, layout), _rows_start(formula, df, None), rtol=1e-7
    )  # r'r as a quadratic form in A: a few digits lost to cancellation
    _, engine = fit_cross_products(cp)
    assert engine.record.start == "moment"


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("formula", FORMULAS)
def test_fit_reaches_the_in_memory_optimum_in_its_evaluations(data, formula, reml):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        memory = mf.lmer(formula, data, reml=reml)
        fit = mf.lmer(formula, mf.crossproducts(formula, data), reml=reml)
    assert abs(fit.objective - memory.objective) <= 1e-12 * abs(memory.objective)
    np.testing.assert_allclose(fit.fixef.to_numpy(), memory.fixef.to_numpy(), rtol=1e-8)
    assert fit.optimizer.evaluations <= memory.optimizer.evaluations + 2


def test_levels_with_few_rows_are_left_out_as_in_memory(tmp_path):
    """Skewed counts: many users have 1 or 2 rows (no more than the term's 2 columns); the
    start leaves them out by their row counts, kept by pass 2, as the in-memory start does."""
    rng = np.random.default_rng(0)
    n, users = 3000, 400
    u = rng.zipf(1.5, n) % users
    x = rng.normal(size=n)
    y = 3 + 0.5 * x + rng.normal(size=users)[u] + rng.normal(size=n)
    df = pd.DataFrame({"user": u, "item": rng.integers(0, 30, n), "x": x, "y": y})
    formula = "y ~ x + (1 + x | user) + (1 | item)"
    cp = mf.crossproducts(formula, df, chunk_rows=700)
    assert int(np.sum(cp.counts[0] <= 2)) > 50
    layout = ThetaLayout(tuple(engine_terms(cp.design)))
    expected = _rows_start(formula, df, None)
    np.testing.assert_allclose(statistics_start(cp, layout), expected, rtol=1e-8, atol=1e-10)
    cp.save(tmp_path / "few.cp")
    loaded = mf.load_crossproducts(tmp_path / "few.cp")
    for a, b in zip(loaded.counts, cp.counts, strict=True):
        np.testing.assert_array_equal(a, b)
    cp.counts = []  # as cross products saved without the counts: judged by Z_l'Z_l alone
    assert not np.allclose(statistics_start(cp, layout), expected, rtol=1e-3)
