"""The bootstrap's refits in compiled batches (mixedfit.engine.jit_refit via
ResponseRefits.estimates): the Python path's θ̂ bit for bit, σ̂ and β̂ to rounding, and every
case the compiled loop does not finish left to the Python path."""

from __future__ import annotations

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine import convergence, jit, jit_kernel, jit_refit, optimize, restart
from mixedfit.engine import refit as refit_module
from mixedfit.engine.refit import ResponseRefits
from mixedfit.engine.result import SINGULAR_TOL
from mixedfit.inference.bootstrap import simulate
from mixedfit.model import engine_terms

NSIM = 40

CASES = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {}),
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {"reml": False}),
    ("sleepstudy", "Reaction ~ Days + (Days || Subject)", {}),
    ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}),  # crossed
    ("pastes", "strength ~ 1 + (1 | batch/cask)", {}),  # nested, many boundary refits
    ("dyestuff", "Yield ~ 1 + (1 | Batch)", {}),
    ("sleepstudy", "Reaction ~ 0 + Days + (Days | Subject)", {}),  # y not centred
    ("sleepstudy", "Reaction ~ Days + offset(0.5 * Days) + (1 | Subject)", {"reml": False}),
    ("orthodont", "distance ~ age + (age | Subject)", {}),  # centred slope columns
    ("orthodont", "distance ~ age * Sex + (age | Subject)", {"reml": False}),
]
ORTHODONT = 8

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba not available")


def _fit(case):
    if case == "weighted":
        df = mf.load_dataset("sleepstudy")
        df = df.assign(w=1.0 + df["Days"] % 3)
        return mf.lmer("Reaction ~ Days + (Days | Subject)", df, weights="w")
    name, formula, kw = CASES[case]
    return mf.lmer(formula, mf.load_dataset(name), **kw)


def _refits(fit, nsim=NSIM, seed=3):
    d = fit._design
    Y = simulate(fit, nsim, seed=seed) - d.offset[:, None]
    return ResponseRefits(engine_terms(d), d.X, Y, d.weights, fit.reml)


@pytest.fixture(
    scope="module",
    params=[*range(len(CASES)), "weighted"],
    ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in CASES] + ["weighted"],
)
def model(request):
    return _fit(request.param)


def _compare(fit, refits, est, nsim=NSIM):
    """Each response the loop finished against the Python path (a fresh object); the Python
    path's engine fits."""
    plain = _refits(fit, nsim) if refits is None else refits
    engines = []
    for s in range(nsim):
        engine = plain.fit(s, blups=False)
        engines.append(engine)
        if not est.done[s]:
            continue
        assert np.array_equal(est.theta[s], engine.theta)
        assert est.sigma[s] == pytest.approx(engine.solution.sigma, rel=1e-12)
        # to rounding relative to the largest coefficient: a β near 0 takes the rounding of the
        # others (a simulated age * Sex ML refit: Sex −0.0082 beside 16.8, 2.4e-14 apart)
        beta = engine.solution.beta
        atol = 1e-12 * np.abs(beta).max()
        np.testing.assert_allclose(est.beta[s], beta, rtol=1e-12, atol=atol)
    return engines


def test_compiled_refits_equal_the_python_path(model):
    """θ̂ of every response the loop finishes is the Python path's bit for bit (the same
    criterion, start and BOBYQA, boundary snap, derivative check and second start), σ̂ and
    β̂ equal to rounding."""
    est = _refits(model).estimates()
    assert est is not None
    assert est.done.sum() >= NSIM - 2
    _compare(model, None, est)


def test_boundary_refits_in_the_loop():
    """Refits that end on the boundary (Pastes' batch SD at 0 in many replicates: the snap to
    0, the second start from lme4's rescaled start that does not win) are the loop's too."""
    fit = _fit(4)
    est = _refits(fit).estimates()
    assert est is not None
    engines = _compare(fit, None, est)
    singular = np.array([e.singular for e in engines])
    assert singular.sum() >= 5 and est.done[singular].all()
    assert any(np.any(e.theta == 0) for e in engines)  # snapped to 0


def test_second_starts_that_win_in_the_loop(monkeypatch):
    """Starts on the boundary (given here in place of the moment starts) end at a boundary
    optimum from which lme4's rescaled start wins (.restart.improve): the loop's θ̂ is that
    second start's, bit for bit, or the response is left to the Python path."""
    rng = np.random.default_rng(0)
    columns = [rng.uniform(0, 3e-4, 30), rng.uniform(-2, 2, 30), rng.uniform(0, 1.5e-4, 30)]
    starts = np.column_stack(columns)
    monkeypatch.setattr(
        refit_module, "batched_starts", lambda start, Y: [t.copy() for t in starts[: Y.shape[1]]]
    )
    fit = _fit(0)
    est = _refits(fit, 30).estimates()
    assert est is not None
    engines = _compare(fit, None, est, 30)
    won = np.array([e.record.start == "rescaled lme4" for e in engines])
    assert won.sum() >= 5 and (won & est.done).sum() >= 5
    assert (~est.done).sum() <= 10


def test_python_refit_after_the_loop_is_unchanged():
    """The loop rewrites the kernel's response row; a refit through ResponseRefits.fit
    afterwards packs its own (the same result as without the loop)."""
    fit = _fit(0)
    refits = _refits(fit)
    plain = [_refits(fit).fit(s, blups=False) for s in (0, 7)]
    refits.estimates()
    for s, ref in zip((0, 7), plain, strict=True):
        again = refits.fit(s, blups=False)
        assert np.array_equal(again.theta, ref.theta)
        assert again.solution.sigma == ref.solution.sigma


def test_batches_of_responses(monkeypatch):
    """Responses in several batches of starts give what one batch gives."""
    fit = _fit(0)
    whole = _refits(fit).estimates()
    monkeypatch.setattr(refit_module, "_BATCH_ENTRIES", 180 * 7)  # 7 responses a batch
    refits = _refits(fit)
    assert refits._batch == 7
    parts = refits.estimates()
    assert whole is not None and parts is not None
    assert np.array_equal(whole.done, parts.done)
    assert np.array_equal(whole.theta, parts.theta)
    assert np.array_equal(whole.beta, parts.beta)


def test_a_response_without_a_batched_start_is_left_alone(monkeypatch):
    """A response whose batched moment start is missing (computed alone by the Python path)
    is not the loop's."""
    fit = _fit(0)
    real = refit_module.batched_starts

    def some_missing(start, Y):
        out = real(start, Y)
        assert out is not None
        return [None if i % 3 == 0 else t for i, t in enumerate(out)]

    monkeypatch.setattr(refit_module, "batched_starts", some_missing)
    est = _refits(fit).estimates()
    assert est is not None
    assert not est.done[::3].any() and est.done[1::3].any()


@pytest.mark.parametrize(
    "formula, data",
    [
        ("Reaction ~ Days + (1 | Subject) + ar1(0 + Daysf | Subject)", "sleepstudy"),
        ("Reaction ~ Dayk + (Dayk | Subject)", "sleepstudy"),  # scaled for the optimizer
        ("Reaction ~ Dayl + (Dayl | Subject)", "sleepstudy"),  # centred columns cancel
    ],
)
def test_not_for_structured_scaled_or_cancelling_layouts(formula, data):
    df = mf.load_dataset(data)
    df = df.assign(
        Daysf=df["Days"].astype("category"), Dayk=df["Days"] * 1000.0, Dayl=df["Days"] + 3000.0
    )
    fit = mf.lmer(formula, df)
    assert _refits(fit, nsim=3).estimates() is None


@pytest.mark.parametrize("gain", [restart.RESTART_GAIN, -1e-3])
def test_centred_boundary_refits_and_second_starts_in_the_loop(monkeypatch, gain):
    """Orthodont's centred slope columns: refits on the boundary (a correlation of ±1 in about
    one replicate of five) get the Python path's second start from lme4's rescaled start,
    decided on the original columns' criterion, θ̂ bit for bit. In 4,500 replicates no second
    start won; a negative gain (both paths) makes it win wherever it ends at the same optimum
    (θ̂ a rounding away), which tests that branch."""
    monkeypatch.setattr(restart, "RESTART_GAIN", gain)
    fit = _fit(ORTHODONT)
    est = _refits(fit, 120).estimates()
    assert est is not None
    engines = _compare(fit, None, est, 120)
    singular = np.array([e.singular for e in engines])
    won = np.array([e.record.start == "rescaled lme4" for e in engines])
    assert singular.sum() >= 10 and est.done[singular].all()
    assert (won.sum() >= 10) == (gain < 0) and est.done[won].all()
    assert est.done.all()


def test_centred_table_near_the_numpy_criterion(monkeypatch):
    """The Orthodont bootstrap table with the compiled loop against the refits with the
    numpy criterion and Python's BOBYQA alone (MIXEDFIT_JIT=0): the same optima to the
    optimizer's tolerance, the same counts."""
    fit = _fit(ORTHODONT)
    fast = fit.bootstrap(nsim=NSIM, seed=2)
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    slow = fit.bootstrap(nsim=NSIM, seed=2)
    assert fast.attrs == slow.attrs
    np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=2e-5, atol=1e-6)


def test_not_without_the_native_bobyqa(monkeypatch):
    """MIXEDFIT_NATIVE_BOBYQA=0 (jit._native None): the Python path only."""
    fit = _fit(0)
    monkeypatch.setattr(jit, "_native", None)
    assert _refits(fit, nsim=3).estimates() is None


def test_bootstrap_table_equals_the_python_path(monkeypatch):
    """fit.bootstrap with the compiled loop equals the table of the Python path alone to
    rounding, with the same counts of failed and singular refits."""
    # centred slope columns: β̂ and σ̂ read off the centred factor where the Python path
    # solves the original one (another factorization: ~1e-12 relative apart)
    for case, rtol in ((0, 1e-12), (4, 1e-12), ("weighted", 1e-12), (8, 1e-10), (9, 1e-10)):
        fit = _fit(case)
        fast = fit.bootstrap(nsim=NSIM, seed=11)
        with monkeypatch.context() as m:
            m.setattr(refit_module, "_compiled_loop", lambda: None)
            slow = fit.bootstrap(nsim=NSIM, seed=11)
        assert fast.attrs == slow.attrs
        assert list(fast.columns) == list(slow.columns)
        np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=rtol, atol=0)


def test_check_verdict_follows_lme4s_check():
    """The loop's derivative check passes where lme4's check (check_convergence) passes and
    refuses where it flags the fit (a point away from the optimum)."""
    fit = _fit(0)
    refits = _refits(fit, nsim=1)
    est = refits.estimates()
    assert est is not None and est.done[0]
    f = refits.factor
    criterion = refits._criteria[id(f)]
    fbuf, ibuf = criterion.bare[1]
    meta = np.array([fbuf.ctypes.data, fbuf.size, ibuf.ctypes.data, ibuf.size, 0, 0])
    fns = refit_module._compiled_loop()[1]
    lower = f.layout.lower()
    refits.fit(0, blups=False)  # the kernel holds response 0 again
    for theta, passes in ((est.theta[0], True), (est.theta[0] * 1.3, False)):
        f0 = criterion(theta)
        check = convergence.check_convergence(criterion, theta, lower)
        assert (check.message is None) == passes
        ftol, step = refit_module._TOLERANCES[0], np.empty(len(theta))  # (.newton's step)
        assert (jit_refit._check_passes(fns, theta, lower, f0, meta, ftol, step) != 0) == passes


def test_loop_constants_are_the_python_paths():
    """The loop's tolerances and constants are those of the code it follows."""
    names = ("ftol_rel", "ftol_abs", "xtol_abs")  # the fit's (.lmm), not minimize_theta's defaults
    assert tuple(optimize.FIT_TOLERANCES[k] for k in names) == refit_module._TOLERANCES
    assert (jit_refit._COUNT, jit_refit._BEST_F, jit_refit._BEST_X) == (
        jit_kernel.STATE_COUNT,
        jit_kernel.STATE_BEST_F,
        jit_kernel.STATE_BEST_X,
    )
    assert jit_refit._PENALTY == optimize.PENALTY
    assert jit_refit._DELTA == convergence._DELTA
    assert jit_refit._SAFE_SCALED < convergence.GRADIENT_TOL
    assert jit_refit._BOUNDARY == restart._BOUNDARY == optimize._ZERO_SNAP == SINGULAR_TOL
    assert (optimize.STEP_FRACTION, optimize.STEP_MIN) == (0.2, 0.05)  # the loop's first step


def test_a_failing_loop_leaves_the_python_path(monkeypatch):
    """A loop that fails (numba's machinery, say) is not tried again in the process, and
    the bootstrap refits every replicate the Python way."""

    def broken(*args):
        raise RuntimeError("compilation failed")

    monkeypatch.setattr(jit_refit, "refit_batch", broken)
    monkeypatch.setattr(refit_module, "_loop_failed", [])
    fit = _fit(0)
    assert _refits(fit, 3).estimates() is None
    assert refit_module._compiled_loop() is None
    table = fit.bootstrap(nsim=3, seed=1)
    assert table.notna().all().all() and table.attrs["failed"] == 0


@pytest.mark.parametrize("reml", [True, False])
def test_centred_refits_against_lme4(reml):
    """Orthodont refitted by lme4 to 16 responses simulated by mixedfit
    (tests/reference/refit_orthodont, refit_orthodont.R; 3 singular fits): the compiled refits
    reach lme4's criterion or lower (lme4 warns of unconverged fits on some: up to 4.3e-5
    higher), the same singular fits where lme4 converged, and σ̂, β̂ to lme4's convergence."""
    import json
    from pathlib import Path

    import pandas as pd

    here = Path(__file__).parent / "reference" / "refit_orthodont"
    ref = [r for r in json.loads((here / "refits.json").read_text()) if r["reml"] == reml]
    Y = pd.read_csv(here / "responses.csv")[[r["y"] for r in ref]].to_numpy()
    fit = mf.lmer("distance ~ age + (age | Subject)", mf.load_dataset("orthodont"), reml=reml)
    d = fit._design
    refits = ResponseRefits(engine_terms(d), d.X, Y, d.weights, reml)
    est = refits.estimates()
    assert est is not None and est.done.all()
    for s, r in enumerate(ref):
        objective = refits._objective(s, est.theta[s])
        assert r["objective"] - 1e-4 < objective < r["objective"] + 1e-7
        if objective > r["objective"] - 1e-6:  # (ML y9: lme4 stops at θ₃ 0.0126, warning;
            # the refit reaches the boundary, 2.6e-5 lower)
            assert (est.theta[s][[0, 2]] < SINGULAR_TOL).any() == r["singular"]
        assert est.sigma[s] == pytest.approx(r["sigma"], rel=5e-4)
        np.testing.assert_allclose(est.beta[s], r["beta"], rtol=1e-9)


def test_stacked_map_to_the_original_columns_is_the_one_row_map():
    """refit_centred's stacked θ' → θ equals Centring.to_original row by row, bit for bit,
    also on the boundary (a correlation of ±1); a row with a vanishing first pivot is left to
    the one-row map."""
    from mixedfit.engine.centring import Centring
    from mixedfit.engine.refit_centred import _to_original_many

    fit = _fit(ORTHODONT)
    centring = Centring.of(engine_terms(fit._design))
    assert centring is not None
    rng = np.random.default_rng(1)
    thetas = np.column_stack(
        [rng.uniform(0, 4, 300), rng.normal(0, 0.3, 300), rng.uniform(0, 0.3, 300)]
    )
    thetas[::7, 2] = 0.0  # on the boundary: θ of rank one, its last pivot ≈ 0
    thetas[0] = centring.to_centred(np.array([0.0, 0.0, 0.5]))  # a first pivot of 0
    many, alone = _to_original_many(centring, thetas)
    assert alone[0] and alone.sum() <= 3
    for i in np.flatnonzero(~alone):
        assert np.array_equal(many[i], centring.to_original(thetas[i]))
    assert (many[7::7, 2] == 0).all()
