"""Fitted models pickle and deep-copy (joblib / multiprocessing workers return fits): after a
round trip every public method works and gives the original's numbers bit for bit, for each
kind of model; no lock, compiled step, CHOLMOD factor or cached result is carried along.

The reference of a round trip is the original fit (computed before pickling); the process-pool
round trip is also checked against lme4's stored sleepstudy estimates."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.sparse import cholmod_available, second_block

SLEEP = "Reaction ~ Days + (Days | Subject)"
REFERENCE = Path(__file__).parent / "reference" / "sleepstudy_slopes_reml.json"


def _sleep() -> pd.DataFrame:
    df = mf.load_dataset("sleepstudy")
    df["Daysf"] = df["Days"].astype(str)
    return df


def _lmer() -> Any:
    return mf.lmer(SLEEP, _sleep())


def _shifted(shift: float) -> Any:
    """Slopes far from 0: the optimizer's centred columns kept, their factor not allocated
    (shift 100); the estimates read off centred columns, the original ones cancel (1e6)."""
    df = _sleep()
    df["Days"] = df["Days"] + shift
    fit = mf.lmer(SLEEP, df)
    assert (fit._engine._criterion is not None) == (shift < 1e3)
    assert (fit._engine._centred is not None) == (shift > 1e3)
    return fit


def _structured() -> Any:
    return mf.lmer("Reaction ~ Days + ar1(0 + Daysf | Subject)", _sleep())


def _residual() -> Any:
    ar1 = mf.AR1(time="Days", subject="Subject")
    return mf.lmer("Reaction ~ Days + (1 | Subject)", _sleep(), residual=ar1)


def _gls() -> Any:
    return mf.gls("Reaction ~ Days", _sleep(), residual=mf.AR1(time="Days", subject="Subject"))


def _scale() -> Any:
    return mf.lmer(SLEEP, mf.crossproducts(SLEEP, _sleep()))


def _scale_residual() -> Any:
    formula, vi = "Reaction ~ Days + (1 | Subject)", mf.VarIdent("Subject")
    return mf.lmer(formula, mf.crossproducts(formula, _sleep(), residual=vi), residual=vi)


def _sparse() -> Any:
    if not cholmod_available():
        pytest.fail("scikit-sparse (CHOLMOD) is part of the test environment")
    with second_block(mode="sparse"):
        return mf.lmer("diameter ~ 1 + (1 | plate) + (1 | sample)", mf.load_dataset("Penicillin"))


KINDS: dict[str, Callable[[], Any]] = {
    "lmer": _lmer,
    "far_slopes": lambda: _shifted(100.0),
    "cancelling": lambda: _shifted(1e6),
    "structured": _structured,
    "residual": _residual,
    "gls": _gls,
    "scale": _scale,
    "scale_residual": _scale_residual,
    "sparse": _sparse,
}

# what is compared after a round trip: a name and how to read it off a fit
READS: list[tuple[str, Callable[[Any], Any]]] = [
    ("fixef", lambda f: f.fixef),
    ("vcov", lambda f: f.vcov),
    ("theta", lambda f: f.theta),
    ("ranef", lambda f: f.ranef),
    ("ranef_condsd", lambda f: f.ranef_condsd),
    ("summary", lambda f: str(f.summary())),
    ("satterthwaite", lambda f: f.coef_table(ddf="satterthwaite")),
    ("kenward-roger", lambda f: f.coef_table(ddf="kenward-roger")),
    ("anova", lambda f: f.anova()),
    ("confint", lambda f: f.confint()),
    ("gradient", lambda f: f.optimizer.gradient),
    ("predict", lambda f: f.predict(_sleep().head(7)) if "Reaction" in f.formula else None),
    ("simulate", lambda f: f.simulate(2, seed=5)),
]


def _read(fit: Any, read: Callable[[Any], Any]) -> Any:
    """The value, or the class of the error raised (a scale fit has no rows to simulate)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read(fit)
    except (mf.MixedFitError, AttributeError, NotImplementedError) as err:  # not offered
        return type(err)


def _same(a: Any, b: Any) -> bool:
    """Equal bit for bit (arrays and frames by their bytes, names and index included)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, pd.DataFrame | pd.Series):
        return a.equals(b) and a.index.equals(b.index) and _same(a.to_numpy(), b.to_numpy())
    if isinstance(a, np.ndarray) and a.dtype == object:  # text: by value (not by pointer)
        return a.shape == b.shape and a.tolist() == b.tolist()
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return bool(a == b)


@pytest.fixture(scope="module", params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> tuple[str, Any, bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = KINDS[request.param]()
    return request.param, fit, pickle.dumps(fit)  # pickled fresh, before anything is read


def test_round_trip_gives_the_same_numbers(kind: tuple[str, Any, bytes]) -> None:
    name, fit, fresh = kind
    expected = {key: _read(fit, read) for key, read in READS}
    assert not isinstance(expected["fixef"], type) and not isinstance(expected["theta"], type)
    warm = pickle.dumps(fit)  # after every lazy result was computed
    for copy_ in (pickle.loads(fresh), pickle.loads(warm), copy.deepcopy(fit)):
        assert type(copy_) is type(fit)
        for key, read in READS:
            assert _same(_read(copy_, read), expected[key]), (name, key)


def test_the_pickle_carries_no_cache(kind: tuple[str, Any, bytes]) -> None:
    name, fit, fresh = kind
    for _, read in READS:
        _read(fit, read)
    # computed results stay behind; only the optimizer's centred factor, allocated and frozen
    # when first needed (.sibling.LazySibling), then carries its L and T
    crit = getattr(fit._engine, "_criterion", None)
    allowed = 0 if crit is None else len(pickle.dumps((crit.factor.L, list(crit.factor.T))))
    assert len(pickle.dumps(fit)) - len(fresh) <= allowed, name
    factor = pickle.loads(fresh)._engine.factor
    assert not {"_known", "_moment_inputs"} & set(vars(factor.layout))  # (fit-time copies)
    if factor.sparse_plan is None:  # compiled when first run, not carried
        assert vars(factor)["_steps"] is None and factor._shared is None


def test_save_works_after_a_round_trip(tmp_path: Path) -> None:
    fit = _residual()
    for i, other in enumerate((fit, pickle.loads(pickle.dumps(fit)))):
        other.save(tmp_path / f"fit{i}.json")
    a, b = (mf.load_fit(tmp_path / f"fit{i}.json") for i in range(2))
    assert _same(a.fixef, b.fixef) and _same(a.theta, b.theta) and a.objective == b.objective
    lm = _lmer()
    pickle.loads(pickle.dumps(lm)).save(tmp_path / "lmer.json")
    assert _same(mf.load_fit(tmp_path / "lmer.json").fixef, lm.fixef)


def test_a_user_context_module_travels_by_name() -> None:
    import numpy.linalg

    context = {"m": np, "la": numpy.linalg}
    fit = mf.lmer("Reaction ~ m.sqrt(Days) + (1 | Subject)", _sleep(), context=context)
    other = pickle.loads(pickle.dumps(fit))
    new = _sleep().head(5)
    assert _same(other.predict(new), fit.predict(new))
    assert other._design.spec.context["la"] is numpy.linalg
    assert copy.deepcopy(fit)._design.spec.context["m"] is np


def _fit_in_worker(seed: int) -> Any:  # (spawned: imported by name)
    return _lmer()


def test_process_pool_round_trip() -> None:
    """Fits returned by a spawned worker (one process: each spawn re-imports mixedfit) equal a
    fit made here, and lme4's estimates."""
    import json

    here = _lmer()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        fits = list(pool.map(_fit_in_worker, range(2)))
    ref = json.loads(REFERENCE.read_text())
    for fit in fits:
        for _, read in READS:
            assert _same(_read(fit, read), _read(here, read))
        assert fit.objective == pytest.approx(ref["objective"], rel=1e-6)
        assert fit.fixef.to_numpy() == pytest.approx(list(ref["beta"].values()), rel=1e-4)
        assert fit.theta == pytest.approx(list(ref["theta"].values()), rel=1e-3)


@pytest.mark.parametrize("make", [_lmer, _gls])
def test_bootstrap_and_profile_after_a_round_trip(make: Callable[[], Any]) -> None:
    """The intervals and replicates of a restored fit are the original's; so are the results
    themselves after a round trip (frames with their attrs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = make()
        other = pickle.loads(pickle.dumps(fit))
        for read in (
            lambda f: f.bootstrap(4, seed=3),
            lambda f: f.confint(method="profile"),
            lambda f: f.confint(method="boot", nsim=4, seed=3),
        ):
            a, b = read(fit), read(other)
            assert _same(a, b) and a.attrs.keys() == b.attrs.keys()
            c = pickle.loads(pickle.dumps(a))
            assert _same(c, a) and all(_same(c.attrs[k], a.attrs[k]) for k in a.attrs)
