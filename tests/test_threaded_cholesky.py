"""Large dense blocks on several BLAS threads (issue 14): the ml-32m-like fit with
``MIXEDFIT_THREADS=2`` crashed in OpenBLAS's threaded ``dpotrf`` (a write past its packing
buffer at order 16,000, SkylakeX kernels). The factor now never calls ``dpotrf`` on more than one
thread: the blocked factor (threaded ``dtrsm``/``dsyrk`` on sub-blocks) gives LAPACK's numbers
to rounding, on the call pattern of the fit (a C-ordered block factored through its transpose,
in place, with or without cleaning its upper part)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine import kernels, threaded_cholesky, threads
from mixedfit.engine.kernels import dense_cholesky
from mixedfit.engine.threaded_cholesky import blocked_cholesky
from mixedfit.engine.threads import single_threaded


def _spd(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(n, n)) / np.sqrt(n)
    return G @ G.T + 0.5 * np.eye(n)


@pytest.mark.parametrize("n, panel", [(300, 64), (257, 256), (200, 1024), (130, 1)])
@pytest.mark.parametrize("clean", [True, False])
@pytest.mark.parametrize("count", ["1", "2"])
def test_blocked_factor_is_lapacks(
    monkeypatch: pytest.MonkeyPatch, n: int, panel: int, clean: bool, count: str
) -> None:
    monkeypatch.setenv(threads.ENV, count)
    A = _spd(n)
    expected = np.tril(A)  # the factor's callers keep the strict upper part zero (or clean it)
    dense_cholesky(expected, clean=True)
    M = np.tril(A) + (np.triu(np.full((n, n), 7.0), 1) if clean else 0.0)
    with single_threaded():
        blocked_cholesky(M, clean=clean, panel=panel)
    np.testing.assert_allclose(M, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    assert not np.triu(M, 1).any()


def test_not_positive_definite_raises_with_lapacks_info() -> None:
    A = _spd(150)
    A[100, 100] = -1.0
    with pytest.raises(np.linalg.LinAlgError, match=r"info=101\)"), single_threaded():
        blocked_cholesky(np.tril(A), clean=True, panel=32)
    with pytest.raises(np.linalg.LinAlgError, match=r"info=101\)"):
        dense_cholesky(np.tril(A), clean=True)


def _crossed(n: int = 6000, users: int = 500, items: int = 420, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u, i = rng.integers(0, users, n), rng.integers(0, items, n)
    y = rng.normal(size=users)[u] + 0.7 * rng.normal(size=items)[i] + rng.normal(size=n)
    return pd.DataFrame({"user": u, "item": i, "y": y})


def test_two_threads_never_call_a_threaded_dpotrf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fit's call pattern: a 420-level dense second block (≥ THREADED_MIN) on two BLAS
    threads; LAPACK's dpotrf runs on one thread only, the panels of the blocked factor on two."""
    df = _crossed()
    one = mf.lmer("y ~ 1 + (1|user) + (1|item)", df, reml=False)
    real_lapack, real_blocked = kernels.lapack, threaded_cholesky.blocked_cholesky
    dpotrf_threads: list[int] = []
    blocked: list[tuple[int, ...]] = []

    class Lapack:  # kernels.lapack with dpotrf recording the BLAS threads it runs on
        def __getattr__(self, name: str) -> object:
            return getattr(real_lapack, name)

        @staticmethod
        def dpotrf(*args: object, **kwargs: object) -> object:
            dpotrf_threads.append(max(lib.num_threads for lib in threads._libraries()))
            return real_lapack.dpotrf(*args, **kwargs)

    def spy(M: np.ndarray, clean: bool = True, panel: int | None = None) -> None:
        blocked.append(M.shape)
        real_blocked(M, clean, panel=128)  # several panels at this size

    monkeypatch.setattr(kernels, "lapack", Lapack())
    monkeypatch.setattr(threaded_cholesky, "blocked_cholesky", spy)
    monkeypatch.setenv(threads.ENV, "2")
    two = mf.lmer("y ~ 1 + (1|user) + (1|item)", df, reml=False)
    assert blocked and all(shape == (420, 420) for shape in blocked)
    assert max(dpotrf_threads, default=1) == 1
    assert abs(two.objective - one.objective) <= 1e-10 * abs(one.objective)
    np.testing.assert_allclose(two.theta, one.theta, rtol=1e-5)


def test_no_visible_blas_means_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """threadpoolctl seeing no BLAS (e.g. Accelerate) gives an empty list of thread counts:
    `max()` raised ValueError on every fit with a dense block of order ≥ 400 (review rv2)."""
    monkeypatch.setattr(threaded_cholesky, "threads_chosen", lambda: [])
    M = _spd(50)
    expected = M.copy()
    dense_cholesky(expected, True)
    threaded_cholesky.threaded_cholesky(M, True)
    np.testing.assert_array_equal(M, expected)
