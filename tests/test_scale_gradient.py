"""``fit.optimizer`` of a fit from cross products (issue 14): the finite-difference gradient at θ̂
(no derivative check above 10,000 rows) is computed on the fit's own factor, not on a clone (a
clone holds another dense second block: +0.9 GB on the 2×10⁷-row benchmark), with the same bits
as the clone gave, and the factor is left at θ̂ as it was."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.optimize import finite_difference_gradient
from mixedfit.engine.sparse import second_block
from mixedfit.engine.threads import single_threaded

FORMULA = "y ~ 1 + x + (1 | user) + (1 | item)"


def rows(n: int = 12_000, users: int = 150, items: int = 40, seed: int = 5) -> pd.DataFrame:
    """Enough rows that the fit has no derivative check (lme4's 10,000)."""
    rng = np.random.default_rng(seed)
    u, i = rng.integers(0, users, n), rng.integers(0, items, n)
    x = rng.normal(size=n)
    y = 2.0 + 0.3 * x + rng.normal(size=users)[u] + 0.6 * rng.normal(size=items)[i]
    return pd.DataFrame({"user": u, "item": i, "x": x, "y": y + rng.normal(size=n)})


def _no_clone(self: BlockedFactor) -> BlockedFactor:
    raise AssertionError("fit.optimizer cloned the factor")


@pytest.mark.parametrize("block", ["dense", "sparse"])
def test_optimizer_gradient_without_a_clone(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, block: str
) -> None:
    df = rows()
    path = f"{tmp_path}/rows.parquet"
    df.to_parquet(path, index=False)
    with second_block(block):
        borrowed = mf.lmer(FORMULA, path, reml=False)
        reference = mf.lmer(FORMULA, path, reml=False)
    assert borrowed.nobs == 12_000 and borrowed._engine.check is None
    # the record as before: the gradient on a clone of the factor (EngineFit.gradient's way)
    engine = reference._engine
    clone, theta, _ = engine.criterion_factor()
    with single_threaded():
        expected = finite_difference_gradient(
            lambda th: clone.objective(th, False), theta, clone.layout.lower()
        )
    with monkeypatch.context() as m:
        m.setattr(BlockedFactor, "clone", _no_clone)
        record = borrowed.optimizer
    np.testing.assert_array_equal(record.gradient, expected)
    assert np.all(np.isfinite(record.gradient)) and np.abs(record.gradient).max() < 1e-2
    fields = ("evaluations", "converged", "message", "start")
    assert [getattr(record, f) for f in fields] == [getattr(reference.optimizer, f) for f in fields]
    # the factor is back at θ̂, frozen, with the same L: conditional variances bit for bit
    for name, sd in reference.ranef_condsd.items():
        np.testing.assert_array_equal(borrowed.ranef_condsd[name].to_numpy(), sd.to_numpy())
    np.testing.assert_array_equal(borrowed.vcov.to_numpy(), reference.vcov.to_numpy())
    with pytest.raises(RuntimeError, match="read-only"):
        borrowed._engine.factor.update(borrowed.theta * 1.1)
    # Satterthwaite's df (a clone at other θ) as on the other fit
    np.testing.assert_array_equal(
        borrowed.coef_table()["df"].to_numpy(), reference.coef_table()["df"].to_numpy()
    )


def test_optimizer_and_satterthwaite_from_two_threads(tmp_path: object) -> None:
    """The factor is borrowed under the fit's lock: Satterthwaite's clone, read at the same
    time on another thread, holds θ̂ (the same df as on a fit that never lent its factor)."""
    df = rows(seed=8)
    path = f"{tmp_path}/rows.parquet"
    df.to_parquet(path, index=False)
    shared = mf.lmer(FORMULA, path, reml=False)
    alone = mf.lmer(FORMULA, path, reml=False)
    expected_df = alone.coef_table()["df"].to_numpy()
    expected_gradient = alone.optimizer.gradient
    with ThreadPoolExecutor(max_workers=2) as pool:
        gradient = pool.submit(lambda: shared.optimizer.gradient)
        table = pool.submit(lambda: shared.coef_table()["df"].to_numpy())
        np.testing.assert_array_equal(gradient.result(), expected_gradient)
        np.testing.assert_array_equal(table.result(), expected_df)
