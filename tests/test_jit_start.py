"""The moment start in one compiled call (mixedfit.engine.jit_start) against the numpy one
(mixedfit.engine.start.moment_start), and when fits use it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design, canonical_rows
from mixedfit.engine import jit
from mixedfit.engine import start as start_module
from mixedfit.engine.centring import Centring
from mixedfit.engine.lmm import weighted_factor
from mixedfit.engine.reterm import ReTerm, ThetaLayout
from mixedfit.engine.start import compiled_moment_start, factor_start, moment_start
from mixedfit.formula import parse_formula
from mixedfit.model import engine_terms

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba is not installed")


def _unbalanced(seed: int = 5) -> pd.DataFrame:
    """Crossed g (30 levels, some with one or two rows: unusable for a slope), h (5 levels),
    slopes in x and z, prior weights w."""
    rng = np.random.default_rng(seed)
    n = 260
    g = np.concatenate([rng.integers(0, 26, n - 6), [26, 27, 27, 28, 29, 29]])
    h = rng.integers(0, 5, n)
    x, z = rng.standard_normal(n), rng.uniform(0, 3, n)
    b = rng.standard_normal((30, 3)) * [1.0, 0.5, 0.3]
    y = 1 + x + b[g, 0] + b[g, 1] * x + b[g, 2] * z + rng.standard_normal(5)[h]
    y = y + rng.standard_normal(n) * 0.7
    w = rng.uniform(0.5, 2, n)
    return pd.DataFrame({"y": y, "x": x, "z": z, "g": g.astype(str), "h": h.astype(str), "w": w})


MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", None),
    ("sleepstudy", "Reaction ~ Days + (Days || Subject)", None),
    ("sleepstudy", "Reaction ~ 1 + (1 | Subject)", None),
    ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", None),
    ("orthodont", "distance ~ age + (age|Subject)", None),
    ("orthodont", "distance ~ age * Sex + (age | Subject)", None),
    ("pastes", "strength ~ 1 + (1|batch/cask)", None),
    ("machines", "score ~ Machine + (1|Worker/Machine)", None),
    ("machines", "score ~ Machine + (0 + Machine | Worker)", None),
    ("machines", "score ~ Machine + (0 + Machine || Worker)", None),
    ("dyestuff2", "Yield ~ 1 + (1|Batch)", None),
    ("cake", "angle ~ recipe * temp + (1|recipe:replicate)", None),
    ("unbalanced", "y ~ x + (x + z | g) + (1 | h)", None),
    ("unbalanced", "y ~ x + (x | g) + (1 | h)", "w"),
    ("unbalanced", "y ~ 0 + x + (1 | g)", None),
]


def _inner(name: str, formula: str, weights: str | None):
    data = _unbalanced() if name == "unbalanced" else mf.load_dataset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = canonical_rows(build_design(parse_formula(formula), data, weights=weights))
    terms = engine_terms(d)
    centring = Centring.of(terms)
    used = terms if centring is None else centring.terms(terms)
    return weighted_factor(used, d.X, d.y - d.offset, d.weights)


@pytest.mark.parametrize("name, formula, weights", MODELS, ids=lambda v: str(v))
def test_compiled_start_is_the_numpy_start(name, formula, weights):
    """The same θ to rounding (≤ 1e-13 of the largest entry; most are equal bit for bit), for
    a REML fit and an ML one (cov(b_l) divided by the levels)."""
    f = _inner(name, formula, weights)
    for reml in (True, False):
        want = moment_start(f.layout, f.X, f.y, reml=reml)
        got = compiled_moment_start(f.layout, f.X, f.y, reml)
        assert got is not None and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * np.abs(want).max())


def test_between_level_rank_is_the_numpy_one():
    """Orthodont's age * Sex loses two directions per column, age alone one; X = [1, x] with a
    per-level x loses both (nothing varies within the levels)."""
    from mixedfit.engine import jit_start
    from mixedfit.engine.start import _between_level_rank

    for formula, lost in [
        ("distance ~ age * Sex + (age | Subject)", 2),
        ("distance ~ age + (age | Subject)", 1),
    ]:
        f = _inner("orthodont", formula, None)
        for t in f.layout.terms:
            X = np.ascontiguousarray(f.X)
            assert jit_start._between_level_rank(t.refs, t.Z, X, t.nlev) == lost
            assert _between_level_rank(t, f.X) == lost
    refs = np.repeat(np.arange(10), 4)
    X = np.column_stack([np.ones(40), np.repeat(np.arange(10.0), 4)])
    term = ReTerm(refs, np.ones((40, 1)), 10)
    assert jit_start._between_level_rank(refs, term.Z, X, 10) == _between_level_rank(term, X) == 2


def test_degenerate_responses_keep_the_numpy_start():
    """No residual degrees of freedom, or a response without finite moments: lme4's start or
    the numpy path's verdict, as moment_start."""
    refs = np.repeat(np.arange(3), 2)
    Z = np.column_stack([np.ones(6), np.arange(6.0)])
    layout = ThetaLayout((ReTerm(refs, Z, 3),))
    X = np.ones((6, 1))
    y = np.arange(6.0) ** 2
    got = compiled_moment_start(layout, X, y)  # df = 6 - 1 - 4 > 0, every level unusable
    np.testing.assert_array_equal(got, moment_start(layout, X, y))
    np.testing.assert_array_equal(got, [1.0, 0.0, 1.0])
    f = _inner("sleepstudy", "Reaction ~ Days + (Days | Subject)", None)
    y = f.y.copy()
    y[3] = np.nan  # σ̂² is NaN: lme4's start on both paths
    np.testing.assert_array_equal(compiled_moment_start(f.layout, f.X, y), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(moment_start(f.layout, f.X, y), [1.0, 0.0, 1.0])


def test_structured_terms_take_the_numpy_start():
    fit = mf.lmer(
        "Reaction ~ Days + ar1(0 + factor(Days) | Subject)", mf.load_dataset("sleepstudy")
    )
    assert compiled_moment_start(fit._engine.factor.layout, np.ones((180, 1)), np.ones(180)) is None


def test_fits_the_kernel_evaluates_start_from_the_compiled_start(monkeypatch):
    """A covered fit starts at the compiled start (the optimizer's record), a fit with
    MIXEDFIT_JIT=0 at the numpy one; both reach lme4's optimum."""
    formula, data = "Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy")
    f = _inner("sleepstudy", formula, None)
    compiled = compiled_moment_start(f.layout, f.X, f.y)
    assert compiled is not None
    np.testing.assert_array_equal(factor_start(f), compiled)
    fit = mf.lmer(formula, data)
    np.testing.assert_array_equal(fit.optimizer.theta_start, compiled)
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    np.testing.assert_array_equal(factor_start(f), moment_start(f.layout, f.X, f.y))
    numpy_fit = mf.lmer(formula, data)
    np.testing.assert_array_equal(numpy_fit.optimizer.theta_start, moment_start(f.layout, f.X, f.y))
    assert numpy_fit.objective == pytest.approx(fit.objective, rel=1e-12)
    assert numpy_fit.objective == pytest.approx(1743.6282719600, rel=1e-11)  # lme4 1.1-31


def test_a_failing_kernel_turns_itself_off(monkeypatch):
    """A kernel failing at its first call (a damaged cache) warns once; the numpy start."""
    monkeypatch.setattr(start_module, "_kernels", {})
    monkeypatch.setattr(start_module, "_kernel_failed", False)
    from mixedfit.engine import jit_start

    def broken(*args):
        raise RuntimeError("damaged cache")

    monkeypatch.setattr(jit_start, "moment_design", broken)
    f = _inner("sleepstudy", "Reaction ~ Days + (Days | Subject)", None)
    with pytest.warns(RuntimeWarning, match="compiled moment start failed"):
        assert compiled_moment_start(f.layout, f.X, f.y) is None
    assert compiled_moment_start(f.layout, f.X, f.y) is None  # off: no second warning
    np.testing.assert_array_equal(factor_start(f), moment_start(f.layout, f.X, f.y))
