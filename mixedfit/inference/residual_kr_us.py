"""mmrm's ``us`` scale τ for an unstructured residual whose reference level is not the first.

The engine's unstructured part (:mod:`mixedfit.engine.residual.unstructured`) factors Λ over the
levels with the reference level first (nlme's: the level of the first row after sorting), so
σ² is that level's variance. mmrm's τ is the Cholesky factor Lc of Σ = σ²Λ over the levels in
their order: log Lc_ii and Lc_ij / Lc_ii. With the reference first in level order that is affine
in the engine's (log σ², log L_ii) plus a ratio map (:func:`.residual_kr._unstructured`); with
another reference it mixes σ² and every entry, so one joint map of (log σ², the ``by=`` groups'
log sd ratios, every group's φ) ↦ (each group's τ) is used instead. Kenward–Roger's R_hj term
depends on the non-linear part of that map, so this keeps the adjusted SEs mmrm's whatever the
row order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engine.residual.structure import ResidualModel
from ..engine.residual.unstructured import UnstructuredPart
from ..engine.residual.variance import IdentPart, ProductVariance

__all__ = ["referenced_us_piece"]

Map = Callable[[np.ndarray], np.ndarray]


def referenced_us_piece(model: ResidualModel, start: int) -> tuple[np.ndarray, Map, Map] | None:
    """The joint (indices of ψ, forward, inverse) map of an unstructured residual (one, or one
    per ``by=`` group) whose reference level is not the first; None otherwise.

    Parameters
    ----------
    model : ResidualModel
    start : int
        Position of the structure's φ in ψ = (log σ², θ, φ).
    """
    corr = model.correlation
    inner = getattr(corr, "parts", None)
    parts = list(inner) if inner is not None else [corr]
    if not parts or not all(isinstance(p, UnstructuredPart) for p in parts):
        return None
    un: list[UnstructuredPart] = [p for p in parts if isinstance(p, UnstructuredPart)]
    if un[0].reference == 0:
        return None
    groups = _group_ratios(model) if inner is not None else None
    n_free = 0 if groups is None else len(groups.free)
    size = sum(p.size for p in un)
    idx = np.concatenate([[0], start + size + np.arange(n_free), start + np.arange(size)])
    cuts = np.cumsum([0, *[p.size for p in un]])

    def forward(x: np.ndarray) -> np.ndarray:
        delta = np.ones(len(un)) if groups is None else groups.deltas(x[1 : 1 + n_free])
        phi = x[1 + n_free :]
        out = []
        for g, p in enumerate(un):
            S = np.exp(x[0]) * delta[g] ** 2 * p.level_matrix(phi[cuts[g] : cuts[g + 1]])
            Lc = np.linalg.cholesky(S)
            d = np.diag(Lc)
            out += [np.log(d), [Lc[i, j] / d[i] for i, j in p._tril]]
        return np.concatenate(out)

    def inverse(t: np.ndarray) -> np.ndarray:
        scale, phis, at = [], [], 0
        for p in un:
            m = p.n_levels
            Lc = np.diag(np.exp(t[at : at + m]))
            for k, (i, j) in enumerate(p._tril):
                Lc[i, j] = t[at + m + k] * Lc[i, i]
            at += m + len(p._tril)
            S = (Lc @ Lc.T)[np.ix_(p.order, p.order)]  # the reference level first
            L = np.linalg.cholesky(S / S[0, 0])
            scale.append(S[0, 0])
            phis.append(np.concatenate([np.log(np.diag(L)[1:]), [L[i, j] for i, j in p._tril]]))
        ref = 0 if groups is None else groups.reference
        eta = [] if groups is None else 0.5 * np.log(np.array(scale)[groups.free] / scale[ref])
        return np.concatenate([[np.log(scale[ref])], eta, *phis])

    return idx, forward, inverse


def _group_ratios(model: ResidualModel) -> IdentPart | None:
    """The ``by=`` groups' sd ratios: the first variance part of a grouped structure."""
    var = model.variance
    first = var.parts[0] if isinstance(var, ProductVariance) else var
    return first if isinstance(first, IdentPart) else None
