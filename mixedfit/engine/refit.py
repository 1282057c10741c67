"""Refits of one model to many responses on the same design (simulate, parametric bootstrap).

A fit spends much of its time on what does not depend on the response: the cross products of Z
and X, the factor's buffers and its compiled update (:mod:`.steps`), the centring of slope
columns (:mod:`.centring`) and of X (:mod:`.reparam`). :class:`ResponseRefits` builds them once
and, per response, rewrites only the response's row of A (Z'y, X'y, y'y, computed for all
responses at once with one sparse product per term), then runs the fit of :func:`.lmm.fit_lmm`
(the same optimizer, derivative check and second starts) from a given θ; the compiled
criterion of :mod:`.jit` is built once too, and only its copy of the response's row is
rewritten per response. The moment starts are computed for many responses at once
(:func:`.start_many.batched_starts`, batches of at most 2·10⁶ rows × responses) when a refit
first asks for one of them.

The cross products of a response are summed in another order than :func:`.crossprod.cross_products`
sums them, and its moment start is the batch's (equal to the one-response start to about 1e-13
relative), so a refit agrees with a fit from scratch to rounding (about 1e-12 relative in the
criterion; θ̂ to the optimizer's tolerance), not bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import jit, refit_centred
from .centring import Centring
from .convergence import MAX_NOBS
from .factor import BlockedFactor
from .jit import EvaluationKernel
from .lmm import EngineFit, fit_factors, weighted_factor
from .optimize import FIT_TOLERANCES
from .reparam import FixedCentring, _two_pass_mean, centre_fixed
from .restart import rescaled_start
from .reterm import ReTerm
from .start import MomentStart
from .start_many import batched_starts

__all__ = ["RefitEstimates", "ResponseRefits"]

_BATCH_ENTRIES = 2_000_000  # responses × rows per batch of moment starts (16 MB a copy)
_TOLERANCES = tuple(FIT_TOLERANCES.values())  # ftol_rel, ftol_abs, xtol_abs as .lmm
_loop_failed: list[BaseException] = []  # the compiled loop failed once: not tried again


@dataclass(frozen=True)
class RefitEstimates:
    """What :meth:`ResponseRefits.estimates` gives: per response (row), where ``done``, θ̂,
    σ̂ and β̂ (the caller's X) of its refit; rows not ``done`` are to be refitted through
    :meth:`ResponseRefits.fit` (their values are undefined)."""

    done: np.ndarray
    theta: np.ndarray
    sigma: np.ndarray
    beta: np.ndarray
    before: np.ndarray  # θ̂ before .newton's step (θ' of centred columns; = θ̂ without one)


class ResponseRefits:
    """Fits of one model (terms, X, prior weights, REML or ML) to the columns of a matrix of
    responses, sharing the factors' structure.

    Parameters
    ----------
    terms : list of ReTerm
        Z not weighted, as for :func:`.lmm.fit_lmm`.
    X : ndarray, shape (n, p)
    Y : ndarray, shape (n, nsim)
        The responses, offset already subtracted.
    weights : ndarray, shape (n,), optional
    reml : bool

    Notes
    -----
    The :class:`EngineFit` that :meth:`fit` returns holds this object's factors: it is valid
    until the next call of :meth:`fit` (read what is needed of it before). Not for sharing
    between threads.
    """

    def __init__(
        self,
        terms: list[ReTerm],
        X: np.ndarray,
        Y: np.ndarray,
        weights: np.ndarray | None,
        reml: bool,
    ) -> None:
        n, nsim = Y.shape
        self.reml = reml
        self.nsim = nsim
        y0 = Y[:, 0] if nsim else np.zeros(n)
        self.factor = weighted_factor(terms, X, y0, weights)
        self.centring = Centring.of(terms)
        self.inner = (
            None
            if self.centring is None
            else weighted_factor(self.centring.terms(terms), X, y0, weights)
        )
        fmap = self.factor.fixed_map
        Yc, self._ybar = Y, np.zeros(nsim)
        self._unit_c = None
        if fmap is not None:  # y' = y − ȳ, c = c₁ ȳ (c₁: the map of y = 1)
            self._ybar = _two_pass_mean(Y, weights)
            Yc = Y - self._ybar
            unit = centre_fixed(X, np.ones(n), weights)[2]
            assert unit is not None
            self._unit_c = unit.c
        if weights is not None:
            Yc = Yc * np.sqrt(weights)[:, None]
        self._Y = np.asarray(Yc, dtype=float)
        self._rows = [_response_rows(f, self._Y) for f in self._factors()]
        self._starts = {id(f): MomentStart(f.layout, f.X, reml=reml) for f in self._factors()}
        # the moment starts per factor, in batches of responses when first asked (start_many);
        # a batch holds a few copies of its responses: at most _BATCH_ENTRIES values each
        self._batched: dict[tuple[int, int], list[np.ndarray | None] | None] = {}
        self._batch = max(1, _BATCH_ENTRIES // max(n, 1))
        self._current = -1  # the response the factors hold (-1: as built, none of Y's)
        # the compiled criterion of each factor (.jit), built once; None: the numpy path
        compiled = jit.wanted(nsim)
        self._kernels = {
            id(f): EvaluationKernel.of(f) if compiled else None for f in self._factors()
        }
        self._criteria = {
            id(f): (lambda th, f=f: f.objective(th, reml)) if k is None else k.function(reml)
            for f in self._factors()
            for k in [self._kernels[id(f)]]
        }

    def _batch_of(self, f: BlockedFactor, index: int) -> list[np.ndarray | None] | None:
        """The moment starts of batch ``index`` of the responses (computed once)."""
        key = (id(f), index)
        if key not in self._batched:
            first = index * self._batch
            columns = self._Y[:, first : first + self._batch]
            self._batched[key] = batched_starts(self._starts[id(f)], columns)
        return self._batched[key]

    def _start_of(self, f: BlockedFactor) -> np.ndarray:
        """The moment start of the response ``f`` holds: from the batch of all responses
        (:func:`.start_many.batched_starts`), or computed alone where the batch has none."""
        s, size = self._current, self._batch
        batch = self._batch_of(f, s // size)
        found = None if batch is None else batch[s % size]
        return self._starts[id(f)](f.y) if found is None else found.copy()

    def _criterion_of(self, f: BlockedFactor) -> Callable[[np.ndarray], float]:
        return self._criteria[id(f)]

    def _factors(self) -> list[BlockedFactor]:
        return [self.factor] if self.inner is None else [self.factor, self.inner]

    def fit(
        self,
        s: int,
        theta_start: np.ndarray | None = None,
        max_evals: int = 100_000,
        blups: bool = True,
    ) -> EngineFit:
        """The fit to response ``s`` (a column of ``Y``) from ``theta_start`` (by default
        the moment start of that response, :class:`.start.MomentStart`), as
        :func:`.lmm.fit_lmm` with that start gives it (to rounding); ``blups=False``: its
        solution without BLUPs (``solution.b`` empty; :func:`.solution.solve`)."""
        self._hold(s)
        return fit_factors(
            self.factor,
            self.centring,
            self.inner,
            reml=self.reml,
            theta_start=theta_start,
            max_evals=max_evals,
            start_of=self._start_of,
            criterion_of=self._criterion_of,
            blups=blups,
        )

    def _hold(self, s: int) -> None:
        """Let the factors (and their compiled kernels) hold response ``s``."""
        y = np.ascontiguousarray(self._Y[:, s])
        self._current = s
        for f, rows in zip(self._factors(), self._rows, strict=True):
            _set_response(f, rows, s, y)
            if (kernel := self._kernels[id(f)]) is not None:
                kernel.pack_response()  # the rest of A is the design's: packed once
            if self._unit_c is not None:
                assert f.fixed_map is not None
                f.fixed_map = FixedCentring(f.fixed_map.M, self._unit_c * self._ybar[s])

    def _objective(self, s: int, theta: np.ndarray) -> float:
        """The model's criterion at θ for response ``s``, as :func:`.lmm.fit_factors`
        evaluates it at the optimum mapped from centred columns (the numpy factor's)."""
        if self._current != s:
            self._hold(s)
        return float(self.factor.objective(theta, self.reml))

    def estimates(self, max_evals: int = 100_000) -> RefitEstimates | None:
        """The refits of all responses in compiled batches (:mod:`.jit_refit`): θ̂ as
        :meth:`fit` gives it (bit for bit), σ̂ and β̂ to rounding, for every response the
        compiled loop completes (``done``); None where it does not apply (structured terms,
        slope columns scaled for the optimizer or cancelling (:func:`_plain`), the kernel or
        NLopt's C API not available). Centred slope columns (:mod:`.refit_centred`): the loop
        optimizes θ' on the centred factor and checks the derivatives there, as
        :func:`.lmm.fit_factors` does; θ' is mapped to θ and the second start of a refit on
        the boundary is decided here. The factors' response is left undefined: :meth:`fit`
        sets its own."""
        f, centring = self.factor, self.centring
        # with centred slope columns the optimizer's factor is the centred one (.lmm)
        opt = f if self.inner is None else self.inner
        kernel, loop = self._kernels[id(opt)], _compiled_loop()
        if kernel is None or loop is None or f.layout.structured or not _plain(centring):
            return None
        m, p = f.layout.size, f.p
        out = RefitEstimates(
            np.zeros(self.nsim, dtype=bool),
            np.zeros((self.nsim, m)),
            np.zeros(self.nsim),
            np.zeros((self.nsim, p)),
            np.zeros((self.nsim, m)),
        )
        batch = _Batch(self, opt, kernel, loop, max_evals)
        firsts = np.full((self.nsim, m), np.nan)  # the first starts (NaN: none)
        for index, first in enumerate(range(0, self.nsim, self._batch)):
            chosen = np.arange(first, min(self.nsim, first + self._batch))
            for i, start in enumerate(self._batch_of(opt, index) or []):
                if start is not None:
                    firsts[first + i] = start
            if not batch.run(chosen, firsts[chosen], out):
                return None
        if centring is not None:  # θ' → θ and the second starts (.refit_centred)
            lower = opt.layout.lower()

            def start_of(s: int) -> np.ndarray | None:  # as .optimize's x0
                x = firsts[s]
                return np.maximum(x, lower) if np.all(np.isfinite(x)) else None

            second = refit_centred.SecondStarts(centring, start_of, batch.run, self._objective)
            if not second.apply(out):
                return None
        if f.fixed_map is not None:  # β = M β' + c, c = c₁ ȳ (as fit's FixedCentring)
            assert self._unit_c is not None
            M = f.fixed_map.M
            for s in np.flatnonzero(out.done):
                out.beta[s] = M @ out.beta[s] + self._unit_c * self._ybar[s]
        return out


class _Batch:
    """One call of :func:`.jit_refit.refit_batch` on chosen responses of a
    :class:`ResponseRefits`, on the factor the optimizer uses (``opt``)."""

    def __init__(
        self,
        refits: ResponseRefits,
        opt: BlockedFactor,
        kernel: EvaluationKernel,
        loop: tuple[Any, np.ndarray],
        max_evals: int,
    ) -> None:
        f = refits.factor
        self.module, self.fns = loop
        self.kernel = kernel
        criterion = refits._criteria[id(opt)]
        assert isinstance(criterion, jit.CompiledCriterion) and criterion.bare is not None
        fbuf, ibuf = criterion.bare[1]  # ibuf: the criterion's own (REML or ML)
        self.state = np.zeros(2 + f.layout.size)  # as .jit_kernel's: count, best value and θ
        addresses = (fbuf.ctypes.data, fbuf.size, ibuf.ctypes.data, ibuf.size)
        self.meta = np.array([*addresses, self.state.ctypes.data, self.state.size], dtype=np.int64)
        self.rows = refits._rows[refits._factors().index(opt)]
        sizes = [max_evals, f.n < MAX_NOBS, kernel.nre, f.p, f.n, refits.reml]
        self.args = (np.array(_TOLERANCES), np.array(sizes, dtype=np.int64))
        self.lower, self.diagonal = f.layout.lower(), f.layout.diagonal_mask()
        if refits.centring is not None:  # second starts judged on θ: .refit_centred's
            self.diagonal = np.zeros_like(self.diagonal)
        self.rescaled = rescaled_start(f.layout)  # .restart's second start

    def run(self, chosen: np.ndarray, starts: np.ndarray, out: RefitEstimates) -> bool:
        """Refit responses ``chosen`` from ``starts`` (rows; NaN: none) into their rows of
        ``out``; False if the loop failed to compile or load (the Python path then)."""
        ZtY, XtY, yy = self.rows
        parts = [Z[:, chosen] for Z in ZtY] + [XtY[:, chosen], yy[None, chosen]]
        rows = np.ascontiguousarray(np.vstack(parts).T)  # the responses' rows of A
        theta, sigma = out.theta[chosen], out.sigma[chosen]
        beta, done, before = out.beta[chosen], out.done[chosen], out.before[chosen]
        k = self.kernel
        try:
            self.module.refit_batch(
                self.fns, self.meta, self.state, k.at0, k.att, k.ltt, rows, starts,
                self.rescaled, self.lower, self.diagonal, *self.args, theta, sigma, beta, done,
                before,
            )  # fmt: skip
        except Exception as error:  # failed to compile or load: the Python path
            _loop_failed.append(error)
            return False
        out.theta[chosen], out.sigma[chosen], out.beta[chosen] = theta, sigma, beta
        out.done[chosen], out.before[chosen] = done, before
        return True


def _plain(centring: Centring | None) -> bool:
    """True if the compiled refits cover a model with this centring: none, or slope columns
    centred (not scaled) whose original columns do not cancel, so that θ̂ and the boundary
    are the original columns' (:meth:`.CentredOptimum.scaled`, :attr:`.Centring.cancelling`)."""
    if centring is None:
        return True
    unscaled = all(M is None or np.all(np.diag(M) == 1.0) for M in centring.M)
    return unscaled and not centring.cancelling


def _compiled_loop() -> tuple[Any, np.ndarray] | None:
    """:mod:`.jit_refit` and the addresses its loop calls, or None (the native BOBYQA off or
    not found, or the loop failed to compile or load in this process)."""
    native = jit._native
    if native is None or _loop_failed:
        return None
    try:
        from . import jit_refit
    except Exception as error:  # numba's machinery: refits take the Python path
        _loop_failed.append(error)
        return None
    fns = native.addresses(jit_refit.FUNCTIONS)
    return None if fns is None else (jit_refit, fns)


def _response_rows(
    f: BlockedFactor, Y: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Z_j'Y per block (q_j, nsim), X'Y (p, nsim) and the squared norms (nsim,) of the
    (weighted, centred) responses against a factor's weighted Z and X."""
    n = Y.shape[0]
    ZtY = []
    for t in f.terms:
        rows = (t.refs[:, None] * t.k + np.arange(t.k)[None, :]).ravel()
        cols = np.repeat(np.arange(n), t.k)
        Zt = sp.csr_matrix((t.Z.ravel(), (rows, cols)), shape=(t.q, n))
        ZtY.append(np.asarray(Zt @ Y))
    return ZtY, f.X.T @ Y, np.einsum("ns,ns->s", Y, Y)


def _set_response(
    f: BlockedFactor,
    rows: tuple[list[np.ndarray], np.ndarray, np.ndarray],
    s: int,
    y: np.ndarray,
) -> None:
    """Write response ``s``'s row of A into the factor (in place: the compiled update reads
    these buffers) and let it hold no θ."""
    ZtY, XtY, yy = rows
    K, p = f.K, f.p
    for j in range(K):
        block = f.A[K, j]
        assert isinstance(block, np.ndarray)
        block[p, :] = ZtY[j][:, s]
    AKK = f.A[K, K]
    assert isinstance(AKK, np.ndarray)
    AKK[p, :p] = XtY[:, s]
    AKK[:p, p] = XtY[:, s]
    AKK[p, p] = yy[s]
    f._y = y
    f._theta = None
    f._frozen = False  # the previous refit's EngineFit froze it; that fit is now stale
