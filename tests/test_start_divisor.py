"""Which divisor an ML fit's moment start gives cov(b_l) (mixedfit/engine/start_divisor.py):
the levels m (ML's estimate) for a term with fewer than 100 levels per lost fixed-effect
direction, REML's m − lost above (issue 15: ML's divisor moved InstEval ML's start by 3e-4 and
its fit from 32 to 36 evaluations, the 10⁶-row model's from 24 to 26).

The expected θ is the one-way moment (ANOVA) estimator written out here in numpy: b_l the level
means of y − ȳ, σ̂² the within-level mean square, g = Σ(b_l − b̄)² / (m − spent) / σ̂² − mean(1/n_l),
θ = √max(g, 1e-2·max(g, 1)). Structural (which start a model gets), no fit's timing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.engine import jit
from mixedfit.engine.lmm import weighted_factor
from mixedfit.engine.reterm import ThetaLayout
from mixedfit.engine.start import MomentStart, compiled_moment_start, moment_start
from mixedfit.engine.start_many import batched_starts
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms
from mixedfit.scale.start import statistics_start


def _one_way(levels: int, seed: int) -> pd.DataFrame:
    """``levels`` groups of 2–6 rows, group SD 0.8, residual SD 1."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(levels), rng.integers(2, 7, levels))
    y = 3.0 + 0.8 * rng.standard_normal(levels)[g] + rng.standard_normal(len(g))
    return pd.DataFrame({"y": y, "g": [f"L{k:03d}" for k in g]})


def _anova_theta(df: pd.DataFrame, spent: int) -> float:
    """The one-way moment estimator of ``y ~ 1 + (1 | g)`` with cov(b_l) divided by m − spent."""
    r = df["y"] - df["y"].mean()
    by = r.groupby(df["g"])
    b, n_l = by.mean().to_numpy(), by.size().to_numpy()
    m, n = len(b), len(df)
    sigma2 = float(((r - by.transform("mean")) ** 2).sum()) / (n - m)
    g = float(((b - b.mean()) ** 2).sum()) / (m - spent) / sigma2 - float(np.mean(1.0 / n_l))
    return float(np.sqrt(max(g, 1e-2 * max(g, 1.0))))


def _factor(formula: str, df: pd.DataFrame):
    design = build_design(parse_formula(formula), df)
    return weighted_factor(engine_terms(design), design.X, design.y - design.offset, None)


@pytest.fixture(scope="module")
def crossed() -> pd.DataFrame:
    """``big`` (150 levels) crossed with ``small`` (12 levels), 900 rows."""
    rng = np.random.default_rng(11)
    n = 900
    big, small = rng.integers(0, 150, n), rng.integers(0, 12, n)
    y = 0.7 * rng.standard_normal(150)[big] + 0.9 * rng.standard_normal(12)[small]
    y = y + rng.standard_normal(n)
    return pd.DataFrame({"y": y, "big": big.astype(str), "small": small.astype(str)})


@pytest.mark.parametrize(
    "levels, spent",
    [(150, 1), (20, 0)],  # ≥ 100 levels per lost direction: REML's divisor; fewer: ML's
    ids=["150 levels: m - 1", "20 levels: m"],
)
def test_ml_start_divisor_by_levels(levels, spent):
    """An ML fit of a scalar term starts from the moment estimate with the divisor its number
    of levels calls for: the numpy start and lmer's ML fit's start (the compiled one where
    numba is installed: :func:`test_compiled_start_applies_the_rule`)."""
    df = _one_way(levels, seed=levels)
    want = _anova_theta(df, spent)
    f = _factor("y ~ 1 + (1 | g)", df)
    np.testing.assert_allclose(moment_start(f.layout, f.X, f.y, reml=False), [want], rtol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        fit = mf.lmer("y ~ 1 + (1 | g)", df, reml=False)
    np.testing.assert_allclose(fit.optimizer.theta_start, [want], rtol=1e-9)


def test_every_start_path_applies_the_rule_per_term(crossed):
    """``(1 | big) + (1 | small)`` by ML: the 150-level term's start is the REML fit's, bit for
    bit on the numpy path; the 12-level term's is ML's (smaller). The compiled start, the
    batched one of refits (start_many) and the one from cross products (mixedfit.scale) agree
    (the compiled one: :func:`test_compiled_start_applies_the_rule`)."""
    formula = "y ~ 1 + (1 | big) + (1 | small)"
    f = _factor(formula, crossed)
    reml, ml = (moment_start(f.layout, f.X, f.y, reml=r) for r in (True, False))
    assert ml[0] == reml[0]  # big
    assert ml[1] < reml[1] * (1 - 1e-3)  # small: divided by 12, not 11
    (batched,) = batched_starts(MomentStart(f.layout, f.X, reml=False), f.y[:, None])
    np.testing.assert_allclose(batched, ml, rtol=1e-12)
    cp = mf.crossproducts(formula, crossed)
    layout = ThetaLayout(tuple(engine_terms(cp.design)))
    np.testing.assert_allclose(statistics_start(cp, layout, False), ml, rtol=1e-8)


def test_the_rule():
    """``divisor_spent``: REML always takes the lost directions; ML only from ML_LEVELS levels
    per lost direction."""
    from mixedfit.engine.jit_start import _ML_LEVELS  # the compiled kernel's copy (rv19 LOW-2)
    from mixedfit.engine.start_divisor import ML_LEVELS, divisor_spent

    assert ML_LEVELS == 100 == _ML_LEVELS
    assert [divisor_spent(m, 1, False) for m in (6, 54, 99, 100, 2972)] == [0, 0, 0, 1, 1]
    assert [divisor_spent(m, 2, False) for m in (27, 199, 200)] == [0, 0, 2]
    assert [divisor_spent(m, 2, True) for m in (27, 199, 200)] == [2, 2, 2]


@pytest.mark.skipif(not jit.enabled(), reason="numba is not installed")
def test_compiled_start_applies_the_rule(crossed):
    """The compiled kernel's copy of the constant, and its ML starts: the one-way estimator on
    150 and 20 levels, the crossed model's numpy start."""
    for levels, spent in ((150, 1), (20, 0)):
        df = _one_way(levels, seed=levels)
        f = _factor("y ~ 1 + (1 | g)", df)
        got = compiled_moment_start(f.layout, f.X, f.y, False)
        assert got is not None
        np.testing.assert_allclose(got, [_anova_theta(df, spent)], rtol=1e-9)
    f = _factor("y ~ 1 + (1 | big) + (1 | small)", crossed)
    got = compiled_moment_start(f.layout, f.X, f.y, False)
    assert got is not None
    np.testing.assert_allclose(got, moment_start(f.layout, f.X, f.y, reml=False), rtol=1e-12)
    from mixedfit.engine import jit_start
    from mixedfit.engine.start_divisor import ML_LEVELS

    assert jit_start._ML_LEVELS == ML_LEVELS
