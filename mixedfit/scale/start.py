"""A moment start for fits from cross products: :func:`mixedfit.engine.start.moment_start`
computed from A = [Z X y]'W[Z X y] instead of the rows.

Every quantity the in-memory moment start needs is a cross product: the OLS fit of y on X
(X'X, X'y), each level's least squares Z_l'Z_l b_l = Z_l'r (Z'Z's diagonal blocks, Z'X, Z'y),
the backfitting of several terms (the pairs' blocks Z_i'Z_j), the residual sum of squares r'r
(a quadratic form in A), and the fixed-effect directions the per-level coefficients lose
(the Gram matrix of X after a per-level regression on a column z: X'X − Σ_l (z_l'X)'(z_l'X) /
z_l'z_l, whose rank replaces the in-memory rank of the rows), and the rows per level (kept by
pass 2: a level is usable when it has more rows than columns and a well-conditioned Z_l'Z_l).
The one difference from the rows: the rank is judged on the Gram matrix (relative eigenvalue
above :data:`RANK_TOL`). Cross products saved without the row counts judge a level by its
Z_l'Z_l alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ..engine.reterm import ReTerm, ThetaLayout
from ..engine.start import moment_factor
from ..engine.start_divisor import divisor_spent
from .crossproducts import CrossProducts

__all__ = ["RANK_TOL", "statistics_start"]

PASSES = 6  # backfitting passes with several terms (as engine/start.py)
RANK_TOL = 1e-9  # relative eigenvalue of the scaled Gram matrix counted as zero


@dataclass
class _Block:
    """One term's blocks of A (block position ``pos``)."""

    term: ReTerm
    pos: int
    ZtZ: np.ndarray  # (m, k, k), regularized
    usable: np.ndarray  # (m,) bool
    ZtX: np.ndarray  # (m, k, p)
    Zty: np.ndarray  # (m, k)
    b: np.ndarray  # (m, k)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        if self.term.k == 1:
            return rhs / self.ZtZ[:, :, 0]
        out: np.ndarray = np.linalg.solve(self.ZtZ, rhs[:, :, None])[:, :, 0]
        return out


def block_order(cp: CrossProducts) -> list[int]:
    """Term index (design order) of each block position, as pass 2 orders the blocks."""
    design = cp.design
    nlev = [len(t.levels) for t in design.spec.terms]
    ks = [t.Z.shape[1] for t in design.terms]
    return sorted(range(len(nlev)), key=lambda i: -nlev[i] * ks[i])


def statistics_start(cp: CrossProducts, layout: ThetaLayout, reml: bool = True) -> np.ndarray:
    """θ from moment estimates of the random-effects covariances (see the module docstring);
    a term whose levels carry too little information keeps lme4's start, T = I.

    Parameters
    ----------
    cp : CrossProducts
    layout : ThetaLayout
        The engine's terms of ``cp``'s design, in θ order.
    reml : bool
        The fit's criterion: for ML cov(b_l) divides by the levels where they are few (as
        :func:`mixedfit.engine.start.moment_start`).
    """
    p = cp.xy.shape[0] - 1
    XtX, Xty = cp.xy[:p, :p], cp.xy[:p, p]
    chol = cho_factor(XtX) if p else None
    beta = cho_solve(chol, Xty) if p else np.zeros(0)
    blocks = _blocks(cp, layout)
    cross = _Cross(cp, blocks)
    alone = []
    for blk in blocks:
        blk.b = blk.solve(blk.Zty - blk.ZtX @ beta)
        alone.append(blk.b)
    for blk in blocks[1:]:
        blk.b = np.zeros_like(blk.b)
    for _ in range(PASSES if len(blocks) > 1 else 0):
        for t, blk in enumerate(blocks):
            rhs = blk.Zty - blk.ZtX @ beta
            for s, other in enumerate(blocks):
                if s != t:
                    rhs -= cross.apply(blk, other)
            blk.b = blk.solve(rhs)
        if p:
            Xtr = Xty - sum((np.einsum("mkp,mk->p", b.ZtX, b.b) for b in blocks), np.zeros(p))
            beta = cho_solve(chol, Xtr)
    rss = _residual_ss(cp, blocks, cross, beta)
    df = cp.n - p - sum(b.term.q - b.term.k for b in blocks)
    sigma2 = rss / df if df > 0 and rss > 0 else 0.0
    thetas = []
    for blk, b in zip(blocks, alone, strict=True):
        blk.b = b
        k = blk.term.k
        T = _term_factor(blk, sigma2, _lost(blk, XtX), reml) if sigma2 > 0 else np.eye(k)
        thetas.append(blk.term.params_of(T))
    return np.concatenate(thetas) if thetas else np.zeros(0)


def _blocks(cp: CrossProducts, layout: ThetaLayout) -> list[_Block]:
    p = cp.xy.shape[0] - 1
    position = {term: pos for pos, term in enumerate(block_order(cp))}
    out = []
    for t, term in enumerate(layout.terms):
        pos = position[t]
        D = cp.diag[pos]
        m, k = D.shape[0], D.shape[1]
        F = cp.fixed[pos].reshape(p + 1, m, k)
        scale = np.abs(D).max(axis=(1, 2))
        usable = np.linalg.det(D) > 1e-10 * scale**k
        if cp.counts:
            usable &= cp.counts[pos] > k
        ridge = 1e-10 * np.maximum(scale, 1e-300)[:, None, None] * np.eye(k)
        ZtX = np.ascontiguousarray(np.moveaxis(F[:p], 0, 2))
        out.append(_Block(term, pos, D + ridge, usable, ZtX, F[p].copy(), np.zeros((m, k))))
    return out


class _Cross:
    """Z_i'Z_j b_j for two terms, from the pairs' blocks (level pairs that occur)."""

    def __init__(self, cp: CrossProducts, blocks: list[_Block]) -> None:
        self.cp = cp
        self.nlev = [d.shape[0] for d in cp.diag]

    def apply(self, blk: _Block, other: _Block) -> np.ndarray:
        i, j = blk.pos, other.pos
        m, k = blk.b.shape
        if i > j:
            keys, data = self.cp.pairs[i, j]
            mine, theirs = keys // self.nlev[j], keys % self.nlev[j]
            data_ab = data  # (nnz, k_i, k_j): rows of Z_i'Z_j
        else:
            keys, data = self.cp.pairs[j, i]
            theirs, mine = keys // self.nlev[i], keys % self.nlev[i]
            data_ab = np.swapaxes(data, 1, 2)
        b = other.b[theirs]  # (nnz, k_j)
        out = np.empty((m, k))
        for a in range(k):
            values = np.einsum("nb,nb->n", data_ab[:, a, :], b)
            out[:, a] = np.bincount(mine, weights=values, minlength=m)
        return out


def _residual_ss(cp: CrossProducts, blocks: list[_Block], cross: _Cross, beta: np.ndarray) -> float:
    """r'r for r = y − Xβ − Σ Z_t b_t, as a quadratic form in A."""
    p = len(beta)
    XtX, Xty, yty = cp.xy[:p, :p], cp.xy[:p, p], cp.xy[p, p]
    total = yty - 2 * beta @ Xty + beta @ XtX @ beta
    for t, blk in enumerate(blocks):
        total -= 2 * float(np.sum(blk.b * (blk.Zty - blk.ZtX @ beta)))
        total += float(np.einsum("ma,mab,mb->", blk.b, blk.ZtZ, blk.b))
        for s in range(t):
            total += 2 * float(np.sum(blk.b * cross.apply(blk, blocks[s])))
    return float(total)


def _lost(blk: _Block, XtX: np.ndarray) -> int:
    """engine/start_divisor.py's ``between_level_rank`` from the Gram matrix (module docstring)."""
    p = XtX.shape[0]
    if p <= 1:
        return 1
    scale = 1.0 / np.sqrt(np.diag(XtX))
    lost = 1
    for a in range(blk.term.k):
        zz = blk.ZtZ[:, a, a].copy()
        C = blk.ZtX[:, a, :]
        zz[zz == 0] = 1.0
        W = (XtX - C.T @ (C / zz[:, None])) * np.outer(scale, scale)
        w = np.linalg.eigvalsh((W + W.T) / 2)
        rank = int(np.sum(w > RANK_TOL * max(float(w.max()), 1e-300)))
        lost = max(lost, p - rank)
    return lost


def _term_factor(blk: _Block, sigma2: float, lost: int, reml: bool) -> np.ndarray:
    """engine/start.py's moment factor: T (k×k) from cov(b_l) − σ² mean((Z_l'Z_l)⁻¹) (ML: the
    ``lost`` directions not taken from the levels cov(b_l) divides by where they are few:
    :func:`mixedfit.engine.start_divisor.divisor_spent`)."""
    used = int(blk.usable.sum())
    if used <= lost:
        return np.eye(blk.term.k)
    spent = divisor_spent(used, lost, reml)
    return moment_factor(blk.ZtZ[blk.usable], blk.b[blk.usable], sigma2, spent, blk.term.correlated)
