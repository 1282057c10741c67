"""Refits to new responses on one design (mixedfit.engine.refit) and the moment start shared by
them (mixedfit.engine.start.MomentStart)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine import refit as refit_module
from mixedfit.engine.lmm import fit_lmm, weighted_factor
from mixedfit.engine.refit import ResponseRefits
from mixedfit.engine.start import MomentStart, moment_start
from mixedfit.engine.start_many import batched_starts
from mixedfit.inference.bootstrap import simulate
from mixedfit.model import engine_terms

NSIM = 6

CASES = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {}),
    ("orthodont", "distance ~ age * Sex + (1 + age | Subject)", {}),  # centred slopes
    ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}),  # crossed
    ("pastes", "strength ~ 1 + (1 | batch/cask)", {}),  # nested
    ("sleepstudy", "Reaction ~ 0 + Days + (Days | Subject)", {}),  # y not centred
    ("sleepstudy", "Reaction ~ Days + offset(0.5 * Days) + (1 | Subject)", {"reml": False}),
    ("orthodont", "distance ~ 0 + Sex + (1 | Subject)", {}),  # cell means: centred via 0 + f
]


def _weighted_sleepstudy():
    df = mf.load_dataset("sleepstudy")
    return df.assign(w=1.0 + df["Days"] % 3)


@pytest.fixture(
    scope="module",
    params=[*range(len(CASES)), "weighted"],
    ids=[f"{c[0]}:{c[1]}" for c in CASES] + ["weighted"],
)
def model(request):
    if request.param == "weighted":
        fit = mf.lmer("Reaction ~ Days + (Days | Subject)", _weighted_sleepstudy(), weights="w")
    else:
        name, formula, kw = CASES[request.param]
        fit = mf.lmer(formula, mf.load_dataset(name), **kw)
    d = fit._design
    Y = simulate(fit, NSIM, seed=5) - d.offset[:, None]
    return fit, d, Y


def test_refit_equals_a_fit_from_scratch(model):
    """Each refit gives what fit_lmm gives on that response (the same start, to rounding)."""
    fit, d, Y = model
    refits = ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml)
    for s in range(NSIM):
        scratch = fit_lmm(engine_terms(d), d.X, Y[:, s], weights=d.weights, reml=fit.reml)
        again = refits.fit(s)
        assert again.objective == pytest.approx(scratch.objective, rel=1e-10)
        sol, ref = again.solution, scratch.solution
        assert sol.sigma == pytest.approx(ref.sigma, rel=1e-5)
        atol = 1e-8 * np.abs(ref.beta).max()
        np.testing.assert_allclose(sol.beta, ref.beta, rtol=1e-5, atol=atol)
        assert again.record.start == scratch.record.start == "moment"


def test_refits_do_not_depend_on_their_order(model):
    """A refit leaves nothing behind for the next: the same response fitted first or after
    others gives the same numbers, bit for bit."""
    fit, d, Y = model
    first = ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml).fit(2)
    expected = (first.objective, first.theta.copy(), first.solution.beta.copy())
    refits = ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml)
    for s in (0, 3, 1):
        refits.fit(s)
    later = refits.fit(2)
    assert later.objective == expected[0]
    np.testing.assert_array_equal(later.theta, expected[1])
    np.testing.assert_array_equal(later.solution.beta, expected[2])


def test_refit_from_a_given_start(model):
    fit, d, Y = model
    refits = ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml)
    given = refits.fit(0, fit.theta)
    scratch = fit_lmm(
        engine_terms(d), d.X, Y[:, 0], weights=d.weights, reml=fit.reml, theta_start=fit.theta
    )
    assert given.record.start == "given"
    assert given.objective == pytest.approx(scratch.objective, rel=1e-10)


def test_moment_start_shared_between_responses(model):
    """MomentStart computes the design's part once; each response gets exactly the start of
    moment_start, whatever was computed before."""
    _, d, Y = model
    factors = [weighted_factor(engine_terms(d), d.X, Y[:, s], d.weights) for s in range(3)]
    shared = MomentStart(factors[0].layout, factors[0].X)
    for f in [*factors, factors[0]]:
        np.testing.assert_array_equal(shared(f.y), moment_start(f.layout, f.X, f.y))


def test_refit_without_blups_gives_the_same_estimates():
    """The bootstrap's refits skip the BLUPs (``blups=False``): θ̂, β̂ and σ̂ are those of the
    refit with them, bit for bit, and ``solution.b`` is empty."""
    for name, formula in [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("orthodont", "distance ~ age + (age | Subject)"),
    ]:
        fit = mf.lmer(formula, mf.load_dataset(name))
        d = fit._design
        Y = simulate(fit, 3, seed=11) - d.offset[:, None]
        refits = ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml)
        for s in range(3):
            full = refits.fit(s)
            got = (full.theta.copy(), full.solution.beta.copy(), full.solution.sigma)
            assert len(full.solution.b) == len(d.terms)
            lean = refits.fit(s, blups=False)
            assert lean.solution.b == []
            assert np.array_equal(lean.theta, got[0])
            assert np.array_equal(lean.solution.beta, got[1])
            assert lean.solution.sigma == got[2]


def test_batched_moment_starts_equal_one_response_starts(model):
    """The refits' moment starts, computed for all responses in one batch (start_many), are
    each response's start of moment_start to rounding (REML's divisor and ML's); a refit of
    response s starts there."""
    _, d, Y = model
    refits = ResponseRefits(engine_terms(d), d.X, Y, d.weights, True)
    for f, reml in itertools.product(refits._factors(), (True, False)):
        shared = MomentStart(f.layout, f.X, reml=reml)
        batch = batched_starts(shared, refits._Y)
        assert batch is not None
        for s in range(NSIM):
            alone = moment_start(f.layout, f.X, refits._Y[:, s], reml=reml)
            assert batch[s] is not None
            np.testing.assert_allclose(batch[s], alone, rtol=0, atol=1e-12 * np.abs(alone).max())
    for s in (3, 1):  # the start of the response the factors hold, whatever came before
        refits.fit(s)
        f = refits._factors()[-1]
        expected = moment_start(f.layout, f.X, refits._Y[:, s])
        np.testing.assert_allclose(refits._start_of(f), expected, rtol=1e-12, atol=1e-14)


def test_batched_moment_start_leaves_overflowing_responses_alone():
    """A response whose batched moments are not finite gets None (the refit computes its start
    alone, as a fit from scratch); structured layouts are not batched."""
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    d = fit._design
    Y = simulate(fit, 3, seed=2)
    Y[:, 1] = 1e300 * np.random.default_rng(0).standard_normal(len(Y))
    f = weighted_factor(engine_terms(d), d.X, Y[:, 0], d.weights)
    batch = batched_starts(MomentStart(f.layout, f.X), Y - Y.mean(axis=0))
    assert batch is not None and batch[1] is None
    assert batch[0] is not None and batch[2] is not None
    sleepstudy = mf.load_dataset("sleepstudy")
    ar1 = mf.lmer("Reaction ~ Days + ar1(0 + factor(Days) | Subject)", sleepstudy)
    g = weighted_factor(engine_terms(ar1._design), ar1._design.X, Y[:, 0], None)
    assert batched_starts(MomentStart(g.layout, g.X), Y) is None


def test_moment_starts_in_batches_of_bounded_size(monkeypatch):
    """The refits' moment starts come in batches of at most _BATCH_ENTRIES values (rows ×
    responses): with batches of 2 responses, each refit starts where one batch of all the
    responses would start it (to rounding: BLAS sums a batch's columns its own way), whatever
    the order of the refits."""
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    d = fit._design
    Y = simulate(fit, 5, seed=8)
    whole = ResponseRefits(engine_terms(d), d.X, Y, d.weights, True)
    monkeypatch.setattr(refit_module, "_BATCH_ENTRIES", 2 * len(Y))
    small = ResponseRefits(engine_terms(d), d.X, Y, d.weights, True)
    assert small._batch == 2
    f_whole, f_small = whole._factors()[0], small._factors()[0]
    for s in (4, 0, 3, 1, 2):
        whole.fit(s)
        small.fit(s)
        np.testing.assert_allclose(
            small._start_of(f_small), whole._start_of(f_whole), rtol=1e-12, atol=1e-14
        )
    assert len(small._batched) == 3 and len(whole._batched) == 1
