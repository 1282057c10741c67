"""The engine's kept skeleton of a reused design (issue 15, :mod:`mixedfit.engine.skeleton`).

Every fit made while a skeleton is kept is compared, bit for bit, with the same fit made with
every cache off (as a fresh process makes it): a changed data frame, formula, response,
weights, offset, REML/ML, context or switch (MIXEDFIT_JIT, MIXEDFIT_THREADS) never reuses a
stale skeleton. That the skeleton is really used is checked by identity (the factor's cross
products are the kept blocks). Nothing here is timed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_design_cache import _same_fit

import mixedfit as mf
from mixedfit.engine import skeleton as skeleton_module
from mixedfit.engine.lmm import fit_lmm
from mixedfit.engine.reterm import ReTerm
from mixedfit.formula.memo import caches_disabled, clear_caches

SLEEP = "Reaction ~ Days + (Days | Subject)"
ORTHODONT = "distance ~ age + (age | Subject)"  # centred slope columns: the inner factor too
PENICILLIN = "diameter ~ 1 + (1 | plate) + (1 | sample)"


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


def _fit(formula: str, df: pd.DataFrame, **kw: Any) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, df, **kw)


def _compare(formula: str, df: pd.DataFrame, **kw: Any) -> mf.LinearMixedModel:
    """The fit with the caches equals the fit without; returns the cached fit."""
    got = _fit(formula, df, **kw)
    with caches_disabled():
        want = _fit(formula, df, **kw)
    _same_fit(got, want)
    np.testing.assert_array_equal(got.vcov.to_numpy(), want.vcov.to_numpy())
    for name in got.ranef_condsd:
        np.testing.assert_array_equal(got.ranef_condsd[name], want.ranef_condsd[name])
    assert got.converged == want.converged
    return got


def _kept(fit: mf.LinearMixedModel, other: mf.LinearMixedModel) -> bool:
    """True if both fits' factors hold the same kept cross products (the skeleton served)."""
    return fit._engine.factor.A[0, 0] is other._engine.factor.A[0, 0]


def _same_terms(fit: mf.LinearMixedModel, other: mf.LinearMixedModel) -> bool:
    """True if both fits' terms hold the same bits (what a skeleton is kept for)."""
    mine, theirs = fit._engine.factor.layout.terms, other._engine.factor.layout.terms
    return len(mine) == len(theirs) and all(
        a.nlev == b.nlev
        and a.correlated == b.correlated
        and a.Z.dtype == b.Z.dtype
        and a.Z.shape == b.Z.shape
        and a.refs.shape == b.refs.shape
        and a.Z.tobytes() == b.Z.tobytes()
        and a.refs.tobytes() == b.refs.tobytes()
        for a, b in zip(mine, theirs, strict=True)
    )


@pytest.mark.parametrize(
    ("name", "formula"),
    [("sleepstudy", SLEEP), ("Orthodont", ORTHODONT), ("Penicillin", PENICILLIN)],
)
def test_the_skeleton_serves_new_responses_bit_for_bit(name, formula):
    df = mf.load_dataset(name)
    _fit(formula, df)  # builds the design
    second = _compare(formula, df)  # reuses the design: the skeleton is built
    third = _compare(formula, df)
    assert _kept(second, third)
    if formula == ORTHODONT:  # the centred columns' factor is served too
        assert third._engine._criterion is not None
        assert second._engine._criterion.factor.A[0, 0] is third._engine._criterion.factor.A[0, 0]
    response = formula.split("~")[0].strip()
    rng = np.random.default_rng(3)
    values = df[response].to_numpy(dtype=float)
    for reml in (True, False):
        new = df.assign(**{response: values + rng.normal(scale=values.std(), size=len(df))})
        fit = _compare(formula, new, reml=reml)
        assert _kept(fit, third) and _same_terms(fit, third)


def _variants(df: pd.DataFrame) -> dict[str, tuple[str, pd.DataFrame, dict[str, Any]]]:
    w = np.linspace(1.0, 2.0, len(df))
    days = df["Days"].to_numpy(dtype=float)
    swapped = df["Subject"].iloc[::-1].to_numpy()
    return {
        "frame: Days shifted": (SLEEP, df.assign(Days=days + 1.0), {}),
        "frame: one Days value": (SLEEP, df.assign(Days=np.where(df.index == 4, 9.5, days)), {}),
        "frame: Subject swapped": (SLEEP, df.assign(Subject=swapped), {}),
        "frame: fewer rows": (SLEEP, df.iloc[:150], {}),
        "frame: rows reordered": (SLEEP, df.iloc[::-1], {}),
        "formula: intercept only": ("Reaction ~ Days + (1 | Subject)", df, {}),
        "formula: slope only": ("Reaction ~ Days + (0 + Days | Subject)", df, {}),
        "formula: uncorrelated": ("Reaction ~ Days + (Days || Subject)", df, {}),
        "formula: fixed part": ("Reaction ~ 1 + (Days | Subject)", df, {}),
        "weights": (SLEEP, df, {"weights": w}),
        "offset": (SLEEP, df, {"offset": w}),
        "ML": (SLEEP, df, {"reml": False}),
        "context": (SLEEP, df, {"context": {"k": 2.0}}),
        "start": (SLEEP, df, {"start": [1.0, 0.0, 0.5]}),
    }


@pytest.mark.parametrize("variant", list(_variants(mf.load_dataset("sleepstudy"))))
def test_a_changed_call_never_reuses_a_stale_skeleton(variant):
    df = mf.load_dataset("sleepstudy")
    for _ in range(3):  # the design and the skeleton of the original call are kept
        kept = _fit(SLEEP, df)
    formula, data, kw = _variants(df)[variant]
    for _ in range(3):  # and those of the changed call, if any, at the second and third
        fit = _compare(formula, data, **kw)
    # served exactly when the terms hold the same bits (weights scale Z: never)
    assert _kept(fit, kept) == (_same_terms(fit, kept) and "weights" not in kw)
    if variant.startswith(("frame: Days", "frame: one", "formula: ")):
        assert not _kept(fit, kept) or variant == "formula: fixed part"
    # back to the original call (its skeleton may have been replaced: one per shape)
    again = [_compare(SLEEP, df) for _ in range(3)]
    assert _same_terms(again[2], kept) and _kept(again[1], again[2])


@pytest.mark.parametrize(
    ("switch", "value"), [("MIXEDFIT_JIT", "0"), ("MIXEDFIT_JIT", "1"), ("MIXEDFIT_THREADS", "2")]
)
def test_switches_and_threads_do_not_change_a_served_fit(monkeypatch, switch, value):
    df = mf.load_dataset("sleepstudy")
    for _ in range(3):
        kept = _fit(SLEEP, df)
    monkeypatch.setenv(switch, value)
    fit = _compare(SLEEP, df)
    assert _kept(fit, kept)


def _terms(writeable: bool, refs: np.ndarray, Z: np.ndarray) -> list[ReTerm]:
    refs, Z = refs.copy(), Z.copy()
    refs.flags.writeable = Z.flags.writeable = writeable
    return [ReTerm(refs, Z, int(refs.max()) + 1)]


def test_only_the_very_same_terms_are_served():
    rng = np.random.default_rng(5)
    refs = np.repeat(np.arange(6), 5)
    Z = np.column_stack([np.ones(30), rng.normal(size=30)])
    Z[0, 1] = 0.0
    negative_zero = Z.copy()
    negative_zero[0, 1] = -0.0
    terms = _terms(True, refs, Z)
    assert skeleton_module.skeleton_of(terms, np.ones(30)) is None  # weights scale Z
    kept = skeleton_module.skeleton_of(terms, None)
    assert kept is not None and skeleton_module.skeleton_of(terms, None) is kept
    assert skeleton_module.skeleton_of(_terms(False, refs, Z), None) is kept  # the same bits
    terms[0].Z[3, 1] += 1e-12  # changed in place
    assert skeleton_module.skeleton_of(terms, None) is not kept
    changed = {
        "Z value": _terms(True, refs, Z + np.eye(30, 2, -4)),
        "Z negative zero": _terms(True, refs, negative_zero),
        "refs": _terms(True, refs[::-1], Z),
        "Z float32": [ReTerm(refs, Z.astype(np.float32), 6)],
        "levels": [ReTerm(refs, Z, 7)],
        "uncorrelated": [ReTerm(refs, Z, 6, correlated=False)],
    }
    again = skeleton_module.skeleton_of(_terms(True, refs, Z), None)
    for name, other in changed.items():
        assert skeleton_module.skeleton_of(other, None) is not again, name
    with caches_disabled():
        assert skeleton_module.skeleton_of(_terms(True, refs, Z), None) is not again


def test_another_fixed_part_on_kept_terms_is_computed_afresh():
    rng = np.random.default_rng(6)
    refs = np.repeat(np.arange(8), 6)
    Z = np.column_stack([np.ones(48), np.tile(np.arange(6.0), 8)])
    terms = _terms(False, refs, Z)
    y = rng.normal(size=48) + refs * 0.3
    for X in (
        np.column_stack([np.ones(48), Z[:, 1]]),
        np.column_stack([np.ones(48), rng.normal(size=48)]),
        np.ones((48, 1)),
        np.column_stack([np.ones(48), Z[:, 1]]),
    ):
        got = fit_lmm(terms, X, y)
        with caches_disabled():
            want = fit_lmm(terms, X, y)
        assert got.objective == want.objective
        np.testing.assert_array_equal(got.theta, want.theta)
        np.testing.assert_array_equal(got.solution.beta, want.solution.beta)
        np.testing.assert_array_equal(got.solution.vcov_unscaled, want.solution.vcov_unscaled)


def test_the_skeletons_are_bounded():
    refs = np.repeat(np.arange(4), 3)
    for i in range(skeleton_module.MAX_SKELETONS + 3):
        Z = np.full((12, 1 + i), 1.0)  # one skeleton per shape of the terms
        assert skeleton_module.skeleton_of(_terms(False, refs, Z), None) is not None
    assert len(skeleton_module._SKELETONS) == skeleton_module.MAX_SKELETONS
    clear_caches()
    assert len(skeleton_module._SKELETONS) == 0


def test_skeletons_built_bypasses_the_skeletons():
    refs = np.repeat(np.arange(4), 3)
    terms = _terms(False, refs, np.ones((12, 1)))
    kept = skeleton_module.skeleton_of(terms, None)
    with skeleton_module.skeletons_built():
        assert skeleton_module.skeleton_of(terms, None) is None
    assert skeleton_module.skeleton_of(terms, None) is kept


def test_the_second_block_policy_is_honoured_on_a_served_skeleton():
    from mixedfit.engine.sparse import cholmod_available, second_block

    if not cholmod_available():
        pytest.skip("scikit-sparse (CHOLMOD) not installed")
    df = mf.load_dataset("Penicillin")
    for _ in range(3):
        kept = _fit(PENICILLIN, df)
    with second_block(mode="sparse"):
        fits = [_compare(PENICILLIN, df) for _ in range(3)]
    assert all(f._engine.factor.sparse_plan is not None for f in fits)
    assert _kept(fits[2], kept)
    dense = _compare(PENICILLIN, df)
    assert dense._engine.factor.sparse_plan is None and _kept(dense, kept)


def test_a_served_skeleton_never_reads_the_first_callers_arrays():
    # rv12c finding 1: the centred terms were built from fit 1's own (writeable) arrays, so a
    # fit served the skeleton after those arrays changed in place read the changed values
    rng = np.random.default_rng(1)
    n, nlev = 180, 18
    refs = np.repeat(np.arange(nlev), 10)
    Z = np.column_stack([np.ones(n), np.tile(np.arange(10.0), nlev) + 100.0])  # centred slope
    u = rng.normal(size=(nlev, 2)) * [20, 3]
    y = Z @ [250, 10] + (Z * u[refs]).sum(1) + rng.normal(scale=25, size=n)
    with caches_disabled():
        want = fit_lmm(_terms(True, refs, Z), Z, y)
    first = _terms(True, refs, Z)
    fit_lmm(first, Z, y)
    first[0].refs[:] = rng.permutation(refs)  # the caller's buffers reused for other data
    first[0].Z[:, 1] = rng.normal(size=n)
    kept = skeleton_module.skeleton_of(_terms(True, refs, Z), None)
    assert kept is not None and kept.inner is not None
    got = fit_lmm(_terms(True, refs, Z), Z, y)  # fresh arrays holding fit 1's values: served
    assert skeleton_module.skeleton_of(_terms(True, refs, Z), None) is kept
    assert got.objective == want.objective
    np.testing.assert_array_equal(got.theta, want.theta)
    np.testing.assert_array_equal(got.solution.beta, want.solution.beta)
    np.testing.assert_array_equal(got.solution.vcov_unscaled, want.solution.vcov_unscaled)
    for got_b, want_b in zip(got.solution.b, want.solution.b, strict=True):
        np.testing.assert_array_equal(got_b, want_b)


def test_x_rows_are_reused_only_for_the_very_same_bits():
    # rv12c finding 4: X's rows were reused on equal values (-0.0 == 0.0), Z's on equal bits
    rng = np.random.default_rng(3)
    refs = np.repeat(np.arange(6), 5)
    terms = _terms(False, refs, np.ones((30, 1)))
    x = rng.normal(size=30)
    x[:5] = 0.0
    y = rng.normal(size=30) + refs
    positive, negative = x[:, None].copy(), x[:, None].copy()
    negative[:5, 0] = -0.0  # no intercept, the constant not in span(X): X is used as it is
    fit_lmm(terms, positive, y)
    got = fit_lmm(terms, negative, y)
    kept = skeleton_module.skeleton_of(terms, None)
    assert kept is not None
    rows_x = kept.products("outer", terms).rows[0][0]
    assert np.signbit(rows_x[:5, 0]).all()  # the rows of the second X, computed afresh
    with caches_disabled():
        want = fit_lmm(terms, negative, y)
    np.testing.assert_array_equal(got.theta, want.theta)
    np.testing.assert_array_equal(got.solution.beta, want.solution.beta)


def test_the_centrings_tuning_is_part_of_the_key(monkeypatch):
    """Regression (session 11, found by tests/test_restart.py failing in file order): a skeleton
    kept under the slope columns' scaling was served after the scaling band changed, so a fit
    without column scaling got the scaled centring (its start 'moment' instead of the second
    start). The centring's tuning constants are part of the key."""
    from references import EXTRA_DIR, load_reference, reference_data

    from mixedfit.engine import centring

    ref = load_reference(EXTRA_DIR / "orange_slopes_ml.json")
    df = reference_data(ref)
    _fit(ref["formula_py"], df, reml=False)  # kept with the default band (columns scaled)
    monkeypatch.setattr(centring, "_SCALE_BAND", np.inf)
    fit = _compare(ref["formula_py"], df, reml=False)
    with caches_disabled():
        want = _fit(ref["formula_py"], df, reml=False)
    assert fit.optimizer.start == want.optimizer.start == "rescaled lme4"
