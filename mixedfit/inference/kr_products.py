"""What Kenward–Roger's adjustment (:mod:`.kenward_roger`) reads of a fit: the products Z'Z, Z'X,
X'X of the weighted columns, the row count, the variance–covariance parameters and Λ.

The rows enter only through the three products, so they come from a provider
(:func:`kr_products`): for an in-memory fit from the rows, as before (bit for bit); for a fit
from cross products (issue 14: ``mf.lmer(formula, cp)``, streamed Parquet/Dask sources) from the
stored A = [Z X y]'W[Z X y], rearranged from the factor's block order into the caller's term
order. The statistics' X columns are centred at their means (:mod:`mixedfit.scale.accumulate`),
so the adjustment is computed for the centred fixed effects β' and contrasts are mapped by the
centring's M, exactly as for an in-memory fit whose slope columns cancel (KR is invariant under
this linear map of β; see :class:`.kenward_roger.KRAdjusted`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ..engine.reparam import FixedCentring, centre_fixed
from ..exceptions import MixedFitError
from .kr_linear import linear_basis, linear_structure

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = ["KRProducts", "Param", "check_statistics_kr", "kr_parameters", "kr_products"]


@dataclass(frozen=True)
class Param:
    """One variance–covariance parameter: the (row, col) index pairs in the random effects
    where its derivative E (q_Z×q_Z, entries 1) is non-zero; ``residual`` for σ²."""

    rows: np.ndarray
    cols: np.ndarray
    residual: bool = False


@dataclass(frozen=True)
class KRProducts:
    """Z'Z (dense, q_Z × q_Z), Z'X (q_Z × p), X'X (p × p) of the weighted (√w) columns, in the
    caller's term order; the number of rows; and the map β = M β' + c when X was centred
    (None: X as the fit's)."""

    ZtZ: np.ndarray
    ZtX: np.ndarray
    XtX: np.ndarray
    n: int
    fixed_map: FixedCentring | None


def _term_maps(fit: MixedModelFit) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Per term, its template T at θ̂ and the map M of its Z columns (None: Z as is): the
    optimizer's columns (centred or scaled) where it had them: KR is invariant under the linear
    map Z → Z M of the covariance entries, and far better conditioned there."""
    engine = fit._engine
    layout = engine.factor.layout
    crit = engine._centred if engine._centred is not None else engine._criterion
    if crit is None:
        Ts = layout.templates(engine.theta)
        Ms: tuple[np.ndarray | None, ...] = (None,) * len(layout.terms)
    else:
        Ts = layout.templates(crit.theta)
        Ms = crit.centring.M
    maps: list[tuple[np.ndarray, np.ndarray | None]] = []
    for term, T, M in zip(layout.terms, Ts, Ms, strict=True):
        if M is not None and term.structure is not None:  # its linear basis is in Z's columns
            T, M = M @ T, None
        maps.append((T, M))
    return maps


def kr_parameters(fit: MixedModelFit) -> tuple[list[Param], sp.csr_matrix]:
    """The variance–covariance parameters (σ² last) and the block-diagonal Λ (q_Z, q_Z), in
    the caller's term order."""
    layout = fit._engine.factor.layout
    params, lam_blocks = [], []
    offset = 0
    for term, (T, _) in zip(layout.terms, _term_maps(fit), strict=True):
        k = term.k
        base = offset + np.arange(term.nlev) * k
        for pairs in linear_basis(term, k):
            prs, pcs = zip(*pairs, strict=True)
            params.append(
                Param(
                    np.concatenate([base + i for i in prs]), np.concatenate([base + j for j in pcs])
                )
            )
        lam_blocks.append(sp.kron(sp.identity(term.nlev), sp.csr_matrix(T)))
        offset += term.q
    params.append(Param(np.zeros(0, int), np.zeros(0, int), residual=True))
    return params, sp.block_diag(lam_blocks, format="csr")


def _row_products(fit: MixedModelFit) -> KRProducts:
    """The products from the rows (weighted Z in the caller's term order; X centred when the
    fit's slope columns cancel)."""
    design = fit._design  # rows in the data's order, as X below (the factor's may differ)
    X, fixed_map = design.X, None
    if fit._engine.cancelling:  # centred X too: Φ and P in β' coordinates (see KRAdjusted.M)
        X, _, fixed_map = centre_fixed(X, design.y, design.weights)
    if design.weights is not None:
        X = X * np.sqrt(design.weights)[:, None]
    sw = np.ones(len(design.y)) if design.weights is None else np.sqrt(design.weights)
    layout = fit._engine.factor.layout
    blocks = []
    for term, data_term, (_, M) in zip(layout.terms, design.terms, _term_maps(fit), strict=True):
        n, k = data_term.Z.shape
        rows = np.repeat(np.arange(n), k)
        cols = (data_term.refs.astype(np.int64)[:, None] * k + np.arange(k)[None, :]).ravel()
        Zt = data_term.Z if M is None else data_term.Z @ M
        values = (Zt * sw[:, None]).ravel()
        blocks.append(sp.csr_matrix((values, (rows, cols)), shape=(n, term.q)))
    Z = sp.hstack(blocks, format="csr")
    ZtZ = (Z.T @ Z).toarray()
    ZtX = np.asarray(Z.T @ X)
    XtX = X.T @ X
    return KRProducts(ZtZ, ZtX, XtX, X.shape[0], fixed_map)


def _statistics_products(fit: MixedModelFit, cp: Any) -> KRProducts:
    """The products from the cross products ``cp`` (A in block order: per term its levels'
    k×k blocks, per pair of terms the level pairs that occur, [X y]'Z per term, [X y]'[X y]),
    rearranged into the caller's term order; X centred as the statistics are."""
    factor = fit._engine.factor
    terms = factor.layout.terms
    offsets = np.concatenate([[0], np.cumsum([t.q for t in terms])]).astype(np.int64)
    qz, p = int(offsets[-1]), cp.xy.shape[0] - 1
    ZtZ, ZtX = np.zeros((qz, qz)), np.empty((qz, p))

    def index(t: int, levels: np.ndarray) -> np.ndarray:  # (m, k) positions of levels' columns
        k = terms[t].k
        return offsets[t] + levels.astype(np.int64)[:, None] * k + np.arange(k)[None, :]

    for b, t in enumerate(factor.order):
        rows = index(t, np.arange(terms[t].nlev))
        ZtZ[rows[:, :, None], rows[:, None, :]] = cp.diag[b]
        ZtX[offsets[t] : offsets[t + 1]] = cp.fixed[b][:p].T
        for c in range(b):
            s = factor.order[c]
            keys, data = cp.pairs[b, c]
            ri, cj = index(t, keys // terms[s].nlev), index(s, keys % terms[s].nlev)
            ZtZ[ri[:, :, None], cj[:, None, :]] = data
            ZtZ[cj[:, :, None], ri[:, None, :]] = data.transpose(0, 2, 1)
    return KRProducts(ZtZ, ZtX, cp.xy[:p, :p].copy(), int(cp.n), cp.fixed_map())


def check_statistics_kr(fit: MixedModelFit) -> None:
    """Raise MixedFitError for a fit from cross products whose Kenward–Roger adjustment needs
    the rows: a random-effects term not linear in its parameters (``ar1`` ...: mmrm's
    adjustment reads the rows)."""
    nonlinear = [
        t.structure.kind
        for t in fit._engine.factor.layout.terms
        if t.structure is not None and not linear_structure(t.structure)
    ]
    if nonlinear:
        raise MixedFitError(
            f"Kenward-Roger's degrees of freedom for the {', '.join(nonlinear)} term(s) need "
            "the rows, and this model was fitted from cross products: use ddf='satterthwaite', "
            "or fit in memory with mf.lmer(formula, dataframe)"
        )


def kr_products(fit: MixedModelFit) -> KRProducts:
    """Z'Z, Z'X, X'X and n of ``fit``: from its cross products when it was fitted from them
    (``fit.crossproducts``), else from its rows."""
    cp = getattr(fit, "crossproducts", None)
    if cp is None:
        return _row_products(fit)
    check_statistics_kr(fit)
    return _statistics_products(fit, cp)
