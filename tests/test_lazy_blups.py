"""BLUPs computed when first read (issue 15, :func:`mixedfit.engine.solution.solve` with ``lazy``).

A fit's BLUPs are read off its factor, frozen at θ̂, when first asked for: bit for bit those
computed at once (here: by the eager path on a clone of the factor, and lme4's values through
tests/test_reference.py), once, under a lock, also when many threads ask together, and the same
after a save and load. Nothing here is timed.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine.solution import Solution, solve
from mixedfit.io.persist import save_fit

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ("Pastes", "strength ~ 1 + (1 | batch/cask)"),
]


def _fit(name: str, formula: str, **kw: object) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, mf.load_dataset(name), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "formula"), MODELS)
@pytest.mark.parametrize("reml", [True, False])
def test_blups_read_later_equal_those_computed_at_once(name, formula, reml):
    fit = _fit(name, formula, reml=reml)
    solution = fit._engine.solution
    assert "b" not in vars(solution)  # not computed by the fit
    eager = solve(fit._engine.factor.clone(), fit._engine.theta, reml)
    assert len(solution.b) == len(eager.b)
    for lazy_b, eager_b in zip(solution.b, eager.b, strict=True):
        np.testing.assert_array_equal(lazy_b, eager_b)
    assert solution.b is solution.b  # computed once
    np.testing.assert_array_equal(solution.beta, eager.beta)
    assert solution.sigma == eager.sigma and solution.pwrss == eager.pwrss
    copy = dataclasses.replace(solution, sigma=2.0)
    assert copy.sigma == 2.0 and copy.b is solution.b


def test_blups_asked_for_by_many_threads_are_computed_once():
    fit = _fit(*MODELS[0])
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: fit._engine.solution.b, range(64)))
    assert all(b is got[0] for b in got)
    ranef = fit.ranef["Subject"]
    np.testing.assert_array_equal(ranef.to_numpy(), got[0][0])


def test_blups_after_save_and_load(tmp_path):
    fit = _fit(*MODELS[0])
    path = tmp_path / "fit.json"
    save_fit(fit, path, data=mf.load_dataset("sleepstudy"))
    loaded = mf.load_fit(path)
    np.testing.assert_array_equal(
        loaded.ranef["Subject"].to_numpy(), fit.ranef["Subject"].to_numpy()
    )
    np.testing.assert_array_equal(loaded.fitted, fit.fitted)


@pytest.mark.parametrize("read_first", [False, True])
def test_a_lazy_solution_pickles_and_copies_as_a_plain_one(read_first):
    # rv12c finding 2: the lock and the factor behind the lazy BLUPs made a fit's Solution
    # impossible to pickle or deep-copy (even once b was read)
    fit = _fit(*MODELS[0])
    solution = fit._engine.solution
    eager = solve(fit._engine.factor.clone(), fit._engine.theta, True)
    if read_first:
        solution.b  # noqa: B018
        assert vars(solution)["_blups"] is None  # the factor dropped once b is stored
    for copied in (
        pickle.loads(pickle.dumps(solution)),
        copy.deepcopy(solution),
        copy.copy(solution),
    ):
        assert type(copied) is Solution
        for got, want in zip(copied.b, eager.b, strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(copied.beta, eager.beta)
        np.testing.assert_array_equal(copied.vcov_unscaled, eager.vcov_unscaled)
        assert copied.sigma == eager.sigma and copied.pwrss == eager.pwrss
