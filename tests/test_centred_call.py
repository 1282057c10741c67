"""A centred fit's call does no piece of work twice (issue 15, session 18: Orthodont's margin).

- The centred run's derivative check takes f(θ̂') from the optimization that ended there (the
  same compiled criterion at the same bits), not from a second evaluation
  (:meth:`.compiled_centred.CentredRun.check_at`).
- The inner factor of a reused design takes the model's [X y]'[X y] (copied), and a reused
  design's response rows of A come from one compiled call per term
  (:func:`.response_rows.fill_response_row`): compared bit for bit with ``np.bincount``'s rows
  (:func:`.crossprod._fixed_rows`); a new response never meets the last fit's rows.
- The θ ↔ θ' map from per-term plans (:mod:`.centring_map`) against the numpy steps on
  ``ThetaLayout.templates``; ``restart.on_boundary`` in floats against numpy's; the
  ``MIXEDFIT_JIT`` switch read off ``os.environ``'s mapping follows every change of it.

Nothing here is timed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.engine import jit, jit_mean, jit_refit, response_rows, restart, skeleton
from mixedfit.engine.crossprod import _fixed_rows
from mixedfit.engine.reterm import ReTerm, ThetaLayout, psd_cholesky
from mixedfit.formula.memo import clear_caches

ORTHODONT = "distance ~ age * Sex + (1 + age | Subject)"


@pytest.fixture(scope="module")
def orthodont():
    return mf.load_dataset("Orthodont")


def test_the_centred_check_takes_the_optimizers_value(monkeypatch, orthodont):
    """One direct criterion call per centred fit (the optimization's start): main evaluated
    f(θ̂') a second time for the check. The check's value is still the kernel's f(θ̂')."""
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    mf.lmer(ORTHODONT, orthodont)  # (the design kept: the compiled path from here)
    calls: list[np.ndarray] = []
    direct = jit_refit._criterion

    def counted(fns: np.ndarray, x: np.ndarray, meta: np.ndarray) -> float:
        calls.append(np.array(x))
        return direct(fns, x, meta)

    monkeypatch.setattr(jit_refit, "_criterion", counted)
    fit = mf.lmer(ORTHODONT, orthodont)
    assert fit.optimizer.method == "NLopt LN_BOBYQA" and fit.converged
    assert len(calls) == 1  # the start's value only
    engine = fit._engine
    centred = engine._criterion  # θ̂' and the centred factor
    assert centred is not None and engine.check is not None
    value = jit.criterion(centred.factor, True)(centred.theta)
    assert np.float64(engine.check.value).tobytes() == np.float64(value).tobytes()


def _term(rng: np.random.Generator, n: int, nlev: int, k: int) -> ReTerm:
    refs = rng.integers(0, nlev, size=n).astype(np.int64)
    Z = rng.normal(size=(n, k)) * 10.0 ** rng.integers(-8, 8, size=k)
    Z[:, 0] = 1.0 if k > 1 else Z[:, 0]
    return ReTerm(refs, Z, nlev, True)


def test_the_compiled_response_rows_are_the_bincounts_bit_for_bit(monkeypatch):
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    rng = np.random.default_rng(15)
    for case in range(300):
        term = _term(rng, int(rng.integers(1, 400)), int(rng.integers(1, 30)), case % 3 + 1)
        y = rng.normal(size=len(term.refs)) * 10.0 ** rng.integers(-10, 10)
        y += 1e3 if case % 4 == 0 else 0.0  # a shifted response
        if case % 5 == 0:
            y[: len(y) // 2] = -0.0
        if case % 7 == 0:
            y = np.round(y, 1)
        out = np.full(term.nlev * term.k, np.nan)
        response_rows.fill_response_row(y, term, out)
        assert out.tobytes() == _fixed_rows(y[:, None], term)[0].tobytes(), case
    assert response_rows._row_kernel and response_rows._row_kernel[0] is not None


def test_rows_the_kernel_refuses_or_cannot_load_are_numpys(monkeypatch):
    rng = np.random.default_rng(3)
    term = _term(rng, 50, 6, 2)
    y = rng.normal(size=50)
    expected = _fixed_rows(y[:, None], term)[0].tobytes()
    bad = ReTerm(np.where(term.refs == 0, 6, term.refs), term.Z, 6, True)  # a code ≥ nlev
    out = np.empty(12)
    with pytest.raises(ValueError):  # as np.bincount's rows: never written out of bounds
        response_rows.fill_response_row(y, bad, out)
    assert not jit_mean.response_row(bad.refs, bad.Z, y, 6, out)

    def broken(*args: object) -> bool:
        raise RuntimeError("no compiler")

    monkeypatch.setattr(response_rows, "_row_kernel", [])
    monkeypatch.setattr(jit_mean, "response_row", broken)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    response_rows.fill_response_row(y, term, out)
    assert out.tobytes() == expected and response_rows._row_kernel == [None]


def test_a_new_response_gets_its_own_rows_and_products(monkeypatch, orthodont):
    """A reused design (kept skeleton) with a new response: both factors' response rows and
    [X y]'[X y] are the new response's, the inner factor's a copy of the model's."""
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    clear_caches()
    seen = []
    planned = skeleton.Skeleton.planned

    def kept(self: skeleton.Skeleton, terms: list, X: np.ndarray, y: np.ndarray) -> tuple:
        out = planned(self, terms, X, y)
        seen.append((out, X, y))
        return out

    monkeypatch.setattr(skeleton.Skeleton, "planned", kept)
    mf.lmer(ORTHODONT, orthodont)
    mf.lmer(ORTHODONT, orthodont.assign(distance=orthodont["distance"] * 1.5 + 1e3))
    assert len(seen) == 2
    for (factor, _, inner, _), _X, _y in seen:
        K = factor.K
        Xy = np.column_stack([factor.X, factor.y])
        assert factor.A[K, K].tobytes() == (Xy.T @ Xy).tobytes()
        assert inner.A[K, K].tobytes() == factor.A[K, K].tobytes()
        assert inner.A[K, K] is not factor.A[K, K]
        for f in (factor, inner):
            for j, term in enumerate(f.terms):
                assert f.A[K, j][-1].tobytes() == _fixed_rows(f.y[:, None], term)[0].tobytes()
    assert seen[0][0][0].A[1, 1].tobytes() != seen[1][0][0].A[1, 1].tobytes()


def _numpy_map(centring, theta: np.ndarray, inverse: bool) -> np.ndarray:
    """main's map: T from ``templates``, S symmetrized and factored by numpy's steps."""
    out = np.array(theta, dtype=float)
    layout = centring.layout
    Ts = layout.templates(np.asarray(theta, dtype=float))
    for term, off, T, M in zip(layout.terms, layout.offsets, Ts, centring.M, strict=True):
        if M is None:
            continue
        d = 1.0 / np.diag(M)
        Mt = d[:, None] * M
        A, T = (np.linalg.inv(Mt), d[:, None] * T) if inverse else (Mt, T)
        S = A @ T @ T.T @ A.T
        S = (S + S.T) / 2
        T_new = psd_cholesky(S)
        T_new = T_new if inverse else T_new / d[:, None]
        rows, cols = term.theta_index
        out[off : off + len(rows)] = T_new[rows, cols]
    return out


def test_the_planned_map_is_the_templates_map(monkeypatch):
    """Random centrings (two and three columns, scaled columns, two terms) and θ (zeros on
    the boundary): the map from plans gives the numpy steps' bits (2×2 factors in floats
    turned off: their own test is in test_response_mean.py)."""
    from mixedfit.engine import centring_map
    from mixedfit.engine.centring import Centring

    monkeypatch.setattr(centring_map, "_mapped_2", lambda S, d: None)
    rng = np.random.default_rng(18)
    done = 0
    for case in range(60):
        terms = []
        for k in (2, 3)[: 1 + case % 2]:
            x = rng.choice([8.0, 10.0, 12.0, 14.0], size=(40, k - 1)) + 30.0
            x *= 10.0 ** rng.uniform(-3, 3)
            Z = np.column_stack([np.ones(40), x])
            terms.append(ReTerm(np.repeat(np.arange(10), 4), Z, 10, True))
        centring = Centring.of(terms)
        if centring is None:
            continue
        done += 1
        for _ in range(8):
            theta = np.abs(rng.normal(size=centring.layout.size)) * 10.0 ** rng.uniform(-4, 2)
            theta[rng.integers(len(theta))] = 0.0
            for inverse in (False, True):
                got = centring._map(theta, inverse)
                assert got.tobytes() == _numpy_map(centring, theta, inverse).tobytes()
    assert done > 40


def test_on_boundary_in_floats_is_numpys():
    terms = (
        ReTerm(np.zeros(4, dtype=np.int64), np.ones((4, 2)), 3, True),
        ReTerm(np.zeros(4, dtype=np.int64), np.ones((4, 1)), 2, True),
        ReTerm(np.zeros(4, dtype=np.int64), np.ones((4, 3)), 2, False),
    )
    layout = ThetaLayout(terms)
    rng = np.random.default_rng(5)
    for _ in range(3000):
        theta = rng.normal(size=layout.size) * 10.0 ** rng.integers(-6, 2)
        theta[rng.integers(layout.size)] = rng.choice([np.nan, -0.0, 1e-4, 0.99e-4])
        expected = bool(np.any(theta[layout.diagonal_mask()] < restart._BOUNDARY))
        assert restart.on_boundary(theta, layout) is expected


def test_the_switch_follows_the_environment(monkeypatch):
    for value, off in [("0", True), ("1", False), (" OFF ", True), ("no", True), ("", False)]:
        monkeypatch.setenv("MIXEDFIT_JIT", value)
        assert jit._switched_off() is off and jit.wanted() is not off
    monkeypatch.delenv("MIXEDFIT_JIT", raising=False)
    assert jit._switched_off() is False
    os.environ["MIXEDFIT_JIT"] = "false"  # (restored by monkeypatch's delenv record)
    assert jit._switched_off() is True
