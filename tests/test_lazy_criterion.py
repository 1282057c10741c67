"""The optimizer's centred factor of a fit is brought to its θ̂ only when derivatives ask for
it (criterion_factor(derivatives=True)): a bootstrap's refits and plain fits skip that update.
It is then the same factor, bit for bit, as one updated right after the fit."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd

import mixedfit as mf


def _fit() -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer("distance ~ age + (age | Subject)", mf.load_dataset("orthodont"))


def test_the_criterion_factor_is_updated_when_first_asked_for() -> None:
    engine = _fit()._engine
    crit = engine._criterion
    assert crit is not None  # Orthodont's age (8–14) is centred for the optimizer
    assert not crit.factor._frozen and crit.factor._theta is None  # not updated yet
    eager = crit.factor.clone()
    eager.update(crit.theta)
    factor, theta, invariant = engine.criterion_factor(derivatives=True)
    assert crit.factor._frozen and np.array_equal(theta, crit.theta)
    assert np.array_equal(invariant, crit.centring.invariant())
    for key, block in eager.L.items():
        got = factor.L[key]
        a, b = (getattr(x, "data", x) for x in (block, got))
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_threads_asking_at_once_update_it_once() -> None:
    engine = _fit()._engine
    out: list[np.ndarray] = []

    def ask() -> None:
        factor, _, _ = engine.criterion_factor(derivatives=True)
        out.append(np.asarray(factor.L[factor.K, factor.K]).copy())

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 4 and all(o.tobytes() == out[0].tobytes() for o in out)


def test_satterthwaite_unchanged_by_the_deferred_update() -> None:
    """The df read off the criterion factor: the same whether it was updated for them or
    before (as every fit did before it was deferred)."""
    table = _fit().coef_table()
    again = _fit()
    again._engine.criterion_factor(derivatives=True)
    pd.testing.assert_frame_equal(table, again.coef_table(), check_exact=True)
