"""Estimates read off the factor at θ̂: β̂, σ̂, Var(β̂), the BLUPs and their conditional variances.

With L the blocked factor, ``L_XX' β̂ = c_X`` and ``L_Z' u = c_Z - L_XZ' β̂`` (back-substitution
over blocks), ``b = Λ u``; ``Var(β̂) = σ̂² (L_XX L_XX')⁻¹``; the conditional variance of b given
y and β̂ (lme4's ``condVar``) is ``σ̂² Λ (L_Z L_Z')⁻¹ Λ'``, of which only the diagonal blocks are
computed, column chunk by column chunk, from the columns of ``L_Z⁻¹``.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import numpy as np
import scipy.linalg

from .blocks import Block, BlockDiag, BlockSparse, lower_solve_batched, to_dense
from .factor import BlockedFactor
from .selinv import sparse_conditional_variances
from .sparse import SparseCholesky

__all__ = ["Solution", "conditional_variances", "solve"]

_CHUNK_ENTRIES = 4_000_000  # bound on the dense columns of L⁻¹ held at once


@dataclass(frozen=True)
class Solution:
    """Point estimates at θ̂.

    Attributes
    ----------
    beta : ndarray, shape (p,)
    vcov_unscaled : ndarray, shape (p, p)
        ``(L_XX L_XX')⁻¹``; multiply by σ̂² for Var(β̂).
    sigma : float
    b : list of ndarray
        Per term (caller's order), BLUPs of shape (nlev, k).
    pwrss : float
        Penalized weighted residual sum of squares.
    """

    beta: np.ndarray
    vcov_unscaled: np.ndarray
    sigma: float
    b: list[np.ndarray]
    pwrss: float


class _LazySolution(Solution):
    """A :class:`Solution` whose BLUPs are computed when first read (once, under a lock), off
    a factor that stays at θ̂ (a fitted model's, frozen there): the same arithmetic, so the
    same bits, as computing them at once. The factor is dropped once they are; pickled or
    (deep-)copied it is a plain :class:`Solution` with the BLUPs computed."""

    def __init__(
        self,
        beta: np.ndarray,
        vcov_unscaled: np.ndarray,
        sigma: float,
        b: list[np.ndarray] | None,
        pwrss: float,
        blups: Callable[[], list[np.ndarray]] | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "beta", beta)
        set_(self, "vcov_unscaled", vcov_unscaled)
        set_(self, "sigma", sigma)
        set_(self, "pwrss", pwrss)
        set_(self, "_blups", blups)
        set_(self, "_lock", threading.Lock())
        if b is not None:  # (dataclasses.replace gives every field)
            set_(self, "b", b)

    def __getattr__(self, name: str) -> Any:
        if name != "b":
            raise AttributeError(name)
        with self.__dict__["_lock"]:
            if "b" not in self.__dict__:
                object.__setattr__(self, "b", self.__dict__["_blups"]())
                object.__setattr__(self, "_blups", None)  # the factor no longer needed
        return self.__dict__["b"]

    def _plain(self) -> Solution:
        """The plain :class:`Solution` (BLUPs computed now if not yet)."""
        return Solution(self.beta, self.vcov_unscaled, self.sigma, self.b, self.pwrss)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and copied) as a plain :class:`Solution` with ``b`` computed: the lock
        and the factor behind the lazy BLUPs are not carried along."""
        plain = self._plain()
        return Solution, tuple(getattr(plain, f.name) for f in fields(Solution))

    def __deepcopy__(self, memo: dict[int, Any]) -> Solution:
        return copy.deepcopy(self._plain(), memo)


def solve(
    factor: BlockedFactor, theta: np.ndarray, reml: bool, blups: bool = True, lazy: bool = False
) -> Solution:
    """β̂, σ̂, Var(β̂)/σ̂² and BLUPs at ``theta`` (updates ``factor`` to ``theta``); without
    ``blups`` the BLUPs are left out (``b`` empty: a bootstrap's refits never read them); with
    ``lazy`` they are computed when first read (the factor must then stay at ``theta``: a
    fitted model's, frozen there)."""
    factor.update(theta)
    p, n = factor.p, factor.n
    beta_centred, vcov_centred = factor.centred_fixed_effects()
    pwrss = factor.pwrss()
    sigma = float(np.sqrt(pwrss / (n - p if reml else n)))
    fmap = factor.fixed_map
    beta, vcov = (beta_centred, vcov_centred) if fmap is None else (
        fmap.beta(beta_centred), fmap.vcov(vcov_centred)
    )  # fmt: skip
    if not blups:
        return Solution(beta, vcov, sigma, [], pwrss)
    theta = np.array(theta, dtype=float)
    if lazy:
        later = partial(_blups, factor, theta, beta_centred)
        return _LazySolution(beta, vcov, sigma, None, pwrss, later)
    return Solution(beta, vcov, sigma, _blups(factor, theta, beta_centred), pwrss)


def _blups(factor: BlockedFactor, theta: np.ndarray, beta_centred: np.ndarray) -> list[np.ndarray]:
    """Per term (caller's order) the BLUPs (nlev, k) at ``theta``, which ``factor`` holds (a
    frozen factor holding another θ raises RuntimeError)."""
    factor.update(theta)
    u = _random_effects(factor, beta_centred)  # in the factor's own (centred) X coordinates
    T_given = factor.layout.templates(theta)
    b_block = [
        (u[j].reshape(t.nlev, t.k) @ T_given[factor.order[j]].T) for j, t in enumerate(factor.terms)
    ]
    return [b_block[factor.order.index(i)] for i in range(factor.K)]


def _upper_solve(Ljj: Block, rhs: np.ndarray) -> np.ndarray:
    """Solve ``Ljj' x = rhs`` for a lower-triangular diagonal block."""
    if isinstance(Ljj, BlockDiag):
        nlev, k, _ = Ljj.data.shape
        r = rhs.reshape(nlev, k, 1)
        Lt = np.ascontiguousarray(Ljj.data.transpose(0, 2, 1))
        if k == 1:
            return (r / Lt).ravel()
        return np.linalg.solve(Lt, r).ravel()
    if isinstance(Ljj, SparseCholesky):
        return Ljj.solve_upper(rhs)
    assert isinstance(Ljj, np.ndarray)
    return scipy.linalg.solve_triangular(Ljj, rhs, lower=True, trans="T", check_finite=False)


def _transpose_times(M: Block, v: np.ndarray) -> np.ndarray:
    if isinstance(M, BlockSparse):
        return np.asarray(M.tocsr().T @ v).ravel()
    return np.asarray(to_dense(M)).T @ v


def _random_effects(factor: BlockedFactor, beta: np.ndarray) -> list[np.ndarray]:
    """Spherical random effects u per block (block order)."""
    K, p = factor.K, factor.p
    u: list[np.ndarray] = [np.zeros(0)] * K
    for j in reversed(range(K)):
        LKj = factor.L[K, j]
        assert isinstance(LKj, np.ndarray)
        rhs = LKj[p, :] - LKj[:p, :].T @ beta
        for i in range(j + 1, K):
            rhs = rhs - _transpose_times(factor.L[i, j], u[i])
        u[j] = _upper_solve(factor.L[j, j], rhs)
    return u


def _lower_solve(Lii: Block, rhs: np.ndarray) -> np.ndarray:
    """Solve ``Lii X = rhs`` for dense ``rhs`` of shape (q_i, c)."""
    if isinstance(Lii, BlockDiag):
        nlev, k, _ = Lii.data.shape
        out = lower_solve_batched(Lii.data, rhs.reshape(nlev, k, -1))
        return out.reshape(rhs.shape)
    if isinstance(Lii, SparseCholesky):
        return Lii.solve_lower(rhs)
    assert isinstance(Lii, np.ndarray)
    return scipy.linalg.solve_triangular(Lii, rhs, lower=True, check_finite=False)


def _times(M: Block, X: np.ndarray) -> np.ndarray:
    if isinstance(M, BlockSparse):
        return np.asarray(M.tocsr() @ X)
    return np.asarray(to_dense(M)) @ X


def conditional_variances(
    factor: BlockedFactor, theta: np.ndarray, sigma: float
) -> list[np.ndarray]:
    """Conditional covariance blocks of b given y and β̂, per term (caller's order).

    Returns
    -------
    list of ndarray
        Term i: shape (nlev_i, k_i, k_i).
    """
    factor.update(theta)
    fast = sparse_conditional_variances(factor, theta, sigma)  # a sparse second block
    if fast is not None:
        return fast
    T_given = factor.layout.templates(np.asarray(theta, dtype=float))
    out_block = []
    for j, term in enumerate(factor.terms):
        rows_below = sum(t.q for t in factor.terms[j + 1 :])
        if not isinstance(factor.L[j, j], BlockDiag):
            rows_below += term.q
        per_chunk = max(1, _CHUNK_ENTRIES // max(rows_below * term.k, 1))
        blocks = [
            _inverse_diag_blocks(factor, j, l0, min(term.nlev, l0 + per_chunk))
            for l0 in range(0, term.nlev, per_chunk)
        ]
        V = np.concatenate(blocks) if blocks else np.zeros((0, term.k, term.k))
        T = T_given[factor.order[j]]
        out_block.append(sigma**2 * (T @ V @ T.T))
    return [out_block[factor.order.index(i)] for i in range(factor.K)]


def _columns(M: Block, c0: int, c1: int) -> np.ndarray:
    """Dense copy of columns c0..c1-1 of an off-diagonal block."""
    if isinstance(M, BlockSparse):
        return np.asarray(M.tocsr()[:, c0:c1].toarray())
    return np.asarray(to_dense(M))[:, c0:c1]


def _inverse_diag_blocks(factor: BlockedFactor, j: int, l0: int, l1: int) -> np.ndarray:
    """Diagonal blocks of (L_Z L_Z')⁻¹ for levels l0..l1-1 of block j, shape (l1-l0, k, k).

    Sums X_i' X_i over the blocks X_i (i ≥ j) of the chunk's columns of L_Z⁻¹. When L_jj is
    block diagonal, X_j is too (its inverse blocks), so only later blocks are held dense.
    """
    k, nl = factor.terms[j].k, l1 - l0
    c0, c1 = l0 * k, l1 * k
    Ljj = factor.L[j, j]
    X: dict[int, np.ndarray] = {}
    if isinstance(Ljj, BlockDiag):
        eye = np.broadcast_to(np.eye(k), (nl, k, k))
        inv = lower_solve_batched(Ljj.data[l0:l1], np.ascontiguousarray(eye))
        V = inv.transpose(0, 2, 1) @ inv
        first = {}
        for i in range(j + 1, factor.K):
            cols = _columns(factor.L[i, j], c0, c1).reshape(-1, nl, k).transpose(1, 0, 2)
            first[i] = (cols @ inv).transpose(1, 0, 2).reshape(-1, nl * k)
    else:
        E = np.zeros((Ljj.shape[0], nl * k))
        E[np.arange(c0, c1), np.arange(nl * k)] = 1.0
        X[j] = _lower_solve(Ljj, E)
        V = np.zeros((nl, k, k))
        first = {i: _times(factor.L[i, j], X[j]) for i in range(j + 1, factor.K)}
    for i in range(j + 1, factor.K):
        S = first[i] + sum((_times(factor.L[i, m], X[m]) for m in range(j + 1, i)), 0.0)
        X[i] = -_lower_solve(factor.L[i, i], np.asarray(S))
    for Xi in X.values():
        cols = Xi.reshape(Xi.shape[0], nl, k).transpose(1, 0, 2)
        V += cols.transpose(0, 2, 1) @ cols
    return V
