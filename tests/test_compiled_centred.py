"""A single fit on centred (or scaled) slope columns through the compiled pieces
(mixedfit.engine.compiled_centred, issue 15): the records, checks, estimates and the centred
optima kept for later (derivatives, estimates of cancelling columns) are the Python path's
(.lmm.fit_factors with the compiled path off) bit for bit: Orthodont, simulated responses,
cancelling, scaled and weighted columns, a second start that wins; a fit the compiled path
gives up is the Python path's; the original columns' kernel is not built."""

from __future__ import annotations

import numpy as np
import pytest
from references import EXTRA_DIR, load_reference, reference_data
from test_compiled_fit import _counted, _python_path, _same

import mixedfit as mf
from mixedfit.engine import compiled_centred, jit

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba not available")

ORTHODONT = "distance ~ age + (age | Subject)"
SLEEP = "Reaction ~ Days + (Days | Subject)"


def _orthodont():
    return mf.load_dataset("orthodont")


def _sleep():
    return mf.load_dataset("sleepstudy")


CASES = {
    "orthodont": (ORTHODONT, _orthodont, {}),
    "orthodont-ml": (ORTHODONT, _orthodont, {"reml": False}),
    "orthodont-scaled": (ORTHODONT, lambda: _orthodont().assign(age=lambda d: d.age * 1e-3), {}),
    "orthodont-weights": (
        ORTHODONT,
        lambda: _orthodont().assign(w=lambda d: 1.0 + d.age % 3),
        {"weights": "w"},
    ),
    "orthodont-two-terms": ("distance ~ age + (age | Subject) + (1 | Sex)", _orthodont, {}),
    "sleepstudy-cancelling": (SLEEP, lambda: _sleep().assign(Days=lambda d: d.Days + 3000), {}),
    "sleepstudy-scaled": (SLEEP, lambda: _sleep().assign(Days=lambda d: d.Days * 1000), {}),
    "sleepstudy-centred": (SLEEP, lambda: _sleep().assign(Days=lambda d: d.Days + 30), {}),
}


def _same_centred(a, b):
    """The fits' records, checks and estimates, and their kept centred optima, bit for bit."""
    _same(a, b)
    ea, eb = a._engine, b._engine
    for name in ("_centred", "_criterion"):
        ca, cb = getattr(ea, name), getattr(eb, name)
        assert (ca is None) == (cb is None), name
        if ca is not None:
            np.testing.assert_array_equal(ca.theta, cb.theta)
            assert ca.centring.ratio == cb.centring.ratio
    assert ea.singular == eb.singular
    for ba, bb in zip(ea.solution.b, eb.solution.b, strict=True):  # the BLUPs
        np.testing.assert_array_equal(ba, bb)


def _both(monkeypatch, formula, df, **kw):
    with monkeypatch.context() as m:
        done = _counted(m)
        fast = mf.lmer(formula, df, **kw)
    with monkeypatch.context() as m:
        _python_path(m)
        slow = mf.lmer(formula, df, **kw)
    return done, fast, slow


@pytest.mark.parametrize("case", list(CASES))
def test_centred_fits_take_the_compiled_path_bit_for_bit(case, monkeypatch):
    formula, data, kw = CASES[case]
    done, fast, slow = _both(monkeypatch, formula, data(), **kw)
    assert done == [True]
    _same_centred(fast, slow)
    engine = fast._engine
    assert (engine._centred is not None) == (case == "sleepstudy-cancelling")
    assert (engine._criterion is not None) == (case != "sleepstudy-cancelling")


def test_simulated_orthodont_responses_bit_for_bit(monkeypatch):
    df = _orthodont()
    Y = mf.lmer(ORTHODONT, df).simulate(12, seed=5)
    used = []
    for s in range(Y.shape[1]):
        done, fast, slow = _both(monkeypatch, ORTHODONT, df.assign(distance=Y[:, s]))
        _same_centred(fast, slow)
        used += done
    assert used == [True] * Y.shape[1]


def test_a_second_start_that_wins_bit_for_bit(monkeypatch):
    # CO2's conc (scaled for the optimizer), simulated response 1 of seed 2: the moment start
    # ends on the boundary; lme4's rescaled start, mapped to θ', finds a lower criterion (seed
    # 1's response 17 until ML fits started from ML's moments, then response 13 of seed 2 until
    # ftol_rel went back to 1e-13: their first optima's checks have a message, which the numpy
    # path's verdict settles: the Python path, the same fit)
    ref = load_reference(EXTRA_DIR / "co2_slopes_ml.json")
    d = reference_data(ref)
    formula = ref["formula_py"]
    y = mf.lmer(formula, d, reml=False).simulate(30, seed=2)[:, 1]
    done, fast, slow = _both(monkeypatch, formula, d.assign(uptake=y), reml=False)
    assert done == [True]
    _same_centred(fast, slow)
    assert fast._engine.record.start == "rescaled lme4"
    assert fast._engine._criterion.scaled


def test_a_fit_the_compiled_path_gives_up_is_the_python_paths(monkeypatch):
    def give_up(self, start, budget):
        raise compiled_centred.PythonPathError

    df = _orthodont()
    with monkeypatch.context() as m:
        m.setattr(compiled_centred.CentredRun, "_optimize", give_up)
        done = _counted(m)
        fast = mf.lmer(ORTHODONT, df)
    with monkeypatch.context() as m:
        _python_path(m)
        slow = mf.lmer(ORTHODONT, df)
    assert done == [False]
    _same_centred(fast, slow)


def test_one_kernel_per_centred_fit(monkeypatch):
    # the original columns' kernel was built and never evaluated (two per Orthodont fit)
    built = []
    original = jit.EvaluationKernel.__init__

    def spy(self, factor):
        built.append(factor)
        original(self, factor)

    from mixedfit.formula.memo import caches_disabled

    df = _orthodont()
    mf.lmer(ORTHODONT, df)
    monkeypatch.setattr(jit.EvaluationKernel, "__init__", spy)
    with caches_disabled():
        fit = mf.lmer(ORTHODONT, df)
    assert len(built) == 1
    assert built[0] is fit._engine._criterion.factor
    # a reused design: the centred columns' kernel is kept with it (.skeleton.KernelLease)
    built.clear()
    fit = mf.lmer(ORTHODONT, df)
    assert built == [] and "L" not in vars(fit._engine._criterion.factor)


def test_two_by_two_psd_cholesky_is_reterms_bit_for_bit():
    from mixedfit.engine.centring_map import _psd_cholesky_2
    from mixedfit.engine.reterm import psd_cholesky

    rng = np.random.default_rng(7)
    cases = [
        np.zeros((2, 2)),
        np.array([[0.0, 0.0], [0.0, 2.0]]),
        np.array([[0.0, 1e-9], [1e-9, 2.0]]),  # a vanishing pivot with a column below
        np.array([[0.0, 1.0], [1.0, 2.0]]),  # not PSD
        np.array([[-1.0, 0.0], [0.0, 1.0]]),
        np.array([[1.0, 1.0], [1.0, 1.0]]),  # a correlation of 1
        np.array([[4.0, -2.0], [-2.0, 1.0]]),
        np.array([[1e-300, 1e-150], [1e-150, 1.0]]),
        np.array([[1e300, 1e300], [1e300, 1e300]]),
        np.array([[np.nan, 0.0], [0.0, 1.0]]),
        np.array([[np.inf, 0.0], [0.0, 1.0]]),
    ]
    for _ in range(3000):
        T = np.tril(rng.normal(size=(2, 2))) * 10.0 ** rng.integers(-8, 8, size=(2, 2))
        if rng.random() < 0.3:
            T[rng.integers(2), :] = 0.0
        S = T @ T.T
        cases.append((S + S.T) / 2)
        cases.append(S + rng.normal(size=(2, 2)) * 1e-14 * np.abs(S).max())
    for S in cases:
        a, b = _psd_cholesky_2(S), psd_cholesky(S)
        assert (a is None) == (b is None), S
        if a is not None:
            assert a.tobytes() == b.tobytes(), S
