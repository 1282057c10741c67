"""The public refit to a new response, ``fit.refit(y=...)`` (issue 15): the fit that
:func:`mixedfit.lmer` gives on that response (its canonical rows, moment start and compiled
optimization), bit for bit, whatever the data's row order, weights, offset, criterion or the
compiled kernel's switch; against lme4 through tests/reference/refit_orthodont."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import DataError

pytestmark = pytest.mark.filterwarnings("ignore:boundary \\(singular\\) fit")

REFITS = Path(__file__).parent / "reference" / "refit_orthodont"

CASES = {
    "slopes": ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {}),
    "slopes-ml": ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {"reml": False}),
    "nested-ties": ("pastes", "strength ~ 1 + (1 | batch/cask)", {}),  # tied rows: y orders them
    "weights-offset": (
        "sleepstudy",
        "Reaction ~ Days + offset(0.5 * Days) + (Days || Subject)",
        {"weights": "w"},
    ),
    "singular": ("dyestuff2", "Yield ~ 1 + (1 | Batch)", {}),
}


def _frame(name: str) -> pd.DataFrame:
    df = mf.load_dataset(name).copy()
    return df.assign(w=np.linspace(0.5, 2.0, len(df)))


def _response(formula: str) -> str:
    return formula.split("~")[0].strip()


def _responses(fit: mf.LinearMixedModel) -> list[np.ndarray]:
    """Two simulated responses and the cheap rounding probes of the first (shift, scale by an
    exact power of two, a shift below the response's last digits)."""
    Y = fit.simulate(2, seed=11)
    y = Y[:, 0]
    return [y, Y[:, 1], y + 1e3, y * 1024, y + 1e-9]


def _assert_same(a: mf.LinearMixedModel, b: mf.LinearMixedModel) -> None:
    """Bit for bit: criterion, θ, β, their covariance, BLUPs, flags and the summary."""
    assert a.objective == b.objective
    np.testing.assert_array_equal(a.theta, b.theta)
    pd.testing.assert_series_equal(a.fixef, b.fixef, check_exact=True)
    np.testing.assert_array_equal(np.asarray(a.vcov), np.asarray(b.vcov))
    assert a.ranef.keys() == b.ranef.keys()
    for key in a.ranef:
        pd.testing.assert_frame_equal(a.ranef[key], b.ranef[key], check_exact=True)
    np.testing.assert_array_equal(a.fitted, b.fitted)
    assert (a.converged, a.singular, a.sigma) == (b.converged, b.singular, b.sigma)
    assert a.optimizer.evaluations == b.optimizer.evaluations
    assert str(a.summary()) == str(b.summary())


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def case(request):
    name, formula, kw = CASES[request.param]
    df = _frame(name)
    return df, formula, kw, mf.lmer(formula, df, **kw)


def test_refit_is_the_fit_lmer_gives_on_the_new_response(case):
    """Each response (and its +1e3, ×1024, +1e-9 probes): refit == lmer on a frame holding it."""
    df, formula, kw, fit = case
    for y in _responses(fit):
        fresh = mf.lmer(formula, df.assign(**{_response(formula): y}), **kw)
        _assert_same(fit.refit(y=y), fresh)
    assert fit.refit(y=y).optimizer.theta_start is not None


def test_refit_by_the_other_criterion_is_lmers():
    df, formula, kw = _frame("sleepstudy"), *CASES["slopes"][1:]
    fit = mf.lmer(formula, df, **kw)
    y = fit.simulate(1, seed=3)[:, 0]
    fresh = mf.lmer(formula, df.assign(Reaction=y), reml=False)
    _assert_same(fit.refit(y=y, reml=False), fresh)


def test_refit_of_rows_given_in_another_order():
    """Rows permuted and levels relabelled: the refit to the same responses (in the fit's row
    order) is the fit on the rows in their first order."""
    df = _frame("pastes")
    formula = "strength ~ 1 + (1 | batch/cask)"
    fit = mf.lmer(formula, df)
    y = fit.simulate(1, seed=4)[:, 0]
    p = np.random.default_rng(2).permutation(len(df))
    other = df.iloc[p].reset_index(drop=True)
    other["batch"] = other["batch"].cat.rename_categories(lambda s: f"z{s}")
    refit = mf.lmer(formula, other).refit(y=y[p])
    fresh = fit.refit(y=y)
    assert refit.objective == fresh.objective
    np.testing.assert_array_equal(refit.theta, fresh.theta)
    np.testing.assert_array_equal(refit.fixef.to_numpy(), fresh.fixef.to_numpy())


def test_refit_without_the_compiled_kernel(monkeypatch):
    """MIXEDFIT_JIT=0 after compiled fits: the refit is the numpy path's lmer, and differs from
    nothing cached by the compiled one beyond the optimizer's rounding."""
    df, formula = _frame("sleepstudy"), CASES["slopes"][1]
    fit = mf.lmer(formula, df)
    y = fit.simulate(1, seed=6)[:, 0]
    compiled = fit.refit(y=y)
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    fresh = mf.lmer(formula, df.assign(Reaction=y))
    _assert_same(fit.refit(y=y), fresh)
    assert fresh.objective == pytest.approx(compiled.objective, rel=1e-10)


def test_refit_uses_the_fits_design_after_the_frame_changed():
    """The frame edited in place after the fit: the refit keeps the fit's rows and columns."""
    df = _frame("sleepstudy")
    formula = CASES["slopes"][1]
    fit = mf.lmer(formula, df)
    y = fit.simulate(1, seed=8)[:, 0]
    want = mf.lmer(formula, df.assign(Reaction=y))
    df.loc[:, "Days"] = df["Days"] * 2.0
    df.loc[:, "Reaction"] = 0.0
    _assert_same(fit.refit(y=y), want)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.full(180, np.nan), "missing or infinite"),
        (np.ones(179), "shape"),
        (np.full(180, 3.0), "constant"),
    ],
)
def test_refit_refuses_unusable_responses(y, match):
    fit = mf.lmer(CASES["slopes"][1], _frame("sleepstudy"))
    with pytest.raises(DataError, match=match):
        fit.refit(y=y)


@pytest.mark.parametrize("reml", [True, False])
def test_refits_against_lme4(reml):
    """Orthodont refitted to 16 responses by lme4 (refit_orthodont.R; 3 singular): each refit
    reaches lme4's criterion or lower (lme4 stops up to 4.3e-5 higher on some, warning), the
    same singular fits where lme4 converged, β̂ and σ̂ to lme4's convergence."""
    ref = [r for r in json.loads((REFITS / "refits.json").read_text()) if r["reml"] == reml]
    Y = pd.read_csv(REFITS / "responses.csv")[[r["y"] for r in ref]].to_numpy()
    fit = mf.lmer("distance ~ age + (age | Subject)", mf.load_dataset("orthodont"), reml=reml)
    for s, r in enumerate(ref):
        refit = fit.refit(y=Y[:, s])
        assert r["objective"] - 1e-4 < refit.objective < r["objective"] + 1e-7
        if refit.objective > r["objective"] - 1e-6:
            assert refit.singular == r["singular"]
        assert refit.sigma == pytest.approx(r["sigma"], rel=5e-4)
        np.testing.assert_allclose(refit.fixef.to_numpy(), r["beta"], rtol=1e-6)


def test_kept_orders_of_two_fits_never_mix():
    """Refits of two fits of the same formula on differently ordered rows, alternating: each
    is lmer's fit on its own frame (the kept canonical orders are per fit's arrays)."""
    formula = "strength ~ 1 + (1 | batch/cask)"
    first = _frame("pastes")
    second = first.iloc[::-1].reset_index(drop=True)
    second["strength"] = second["strength"].to_numpy()[::-1]  # other ties, other values
    fits = [mf.lmer(formula, first), mf.lmer(formula, second)]
    Y = fits[0].simulate(2, seed=9)
    for s in range(2):
        for fit, frame in zip(fits, (first, second), strict=True):
            fresh = mf.lmer(formula, frame.assign(strength=Y[:, s]))
            _assert_same(fit.refit(y=Y[:, s]), fresh)


def test_a_new_response_series_is_aligned_by_its_labels():
    """Review rv19 MEDIUM-2: a Series in another index order (or holding every row of the data,
    some dropped by the fit) is matched to the fit's rows by its labels, as a frame's column
    is; a Series without the fit's labels is refused."""
    df = _frame("sleepstudy").set_axis([f"r{i}" for i in range(180)])
    df.loc[["r3", "r40"], "Days"] = np.nan  # two rows dropped by the fit
    formula = "Reaction ~ Days + (Days | Subject)"
    fit = mf.lmer(formula, df)
    full = pd.Series(np.random.default_rng(8).normal(300, 40, 180), index=df.index)
    shuffled = full.iloc[np.random.default_rng(9).permutation(180)]
    fresh = mf.lmer(formula, df.assign(Reaction=shuffled))
    _assert_same(fit.refit(y=shuffled), fresh)
    _assert_same(fit.refit(y=shuffled.drop(["r3", "r40"])), fresh)
    with pytest.raises(DataError, match="labels"):
        fit.refit(y=full.drop("r7"))
    with pytest.raises(DataError, match="labels"):
        fit.refit(y=full.set_axis(range(180)))
