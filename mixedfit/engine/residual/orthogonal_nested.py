"""The QR evaluation of the residual criterion (:mod:`.orthogonal`) for several random-effects
terms nested in the one with fewest levels (e.g. ``(1|site/subject)``; lane tiny2, issue 12).

At tiny VarIdent ratios the cross products lose ~1e-16/δ² of the criterion's relative precision
(:mod:`.orthogonal`); with two nested terms ``(1|site/subject)`` at a ratio of 6e-5 the fit's ℓ
was 5e-5 above nlme's maximum. Per level g of the outer term, the rows of g whitened, their
random effects' columns (every term's levels within g, times its factor T) and the penalty rows
[I 0 0] are factored together by Householder QR (one dense problem per outer level: the terms'
levels within g touch no other rows); the p + 1 rows below the random effects' columns form,
stacked over g, the rows of the fixed effects' factor, as for one term.

Crossed terms (``(1|subject) + (1|item)``: no term holds the others' levels) are one such
problem over all rows (:meth:`NestedOrthogonal.build_crossed`): the whitened [Z Λ X y] with the
penalty rows [I 0 0], dense, n + q rows by q + p + 1 columns, factored once per evaluation
(O((n + q) (q + p + 1)²)), so only while (n + q)(q + 1) is at most :data:`MAX_DENSE_CELLS`;
above it the cross products stay, with :func:`crossed_inexact`'s ConvergenceWarning
(crossed5e5: ℓ 1.8e-6 to 4.7e-6 relative off the dense REML's maximum before, 5e-11 now).
"""

from __future__ import annotations

import numpy as np

from ..reterm import ReTerm, ThetaLayout
from .orthogonal import TINY, Levels, OrthogonalCriterion, _triangle
from .structure import ResidualModel

__all__ = ["MAX_DENSE_CELLS", "NestedOrthogonal", "crossed_inexact"]

#: the largest (n + q) × (q + 1) of the dense QR of crossed terms (:meth:`build_crossed`; q the
#: random effects, n the rows; p fixed effects more columns)
MAX_DENSE_CELLS = 1_000_000


class NestedOrthogonal(OrthogonalCriterion):
    """:class:`.orthogonal.OrthogonalCriterion` for terms nested in an outer one (build with
    :meth:`build_nested`)."""

    def __init__(
        self,
        terms: list[ReTerm],
        M: np.ndarray,
        p: int,
        model: ResidualModel,
        crossed: bool = False,
    ) -> None:
        super().__init__([], M, p, model)
        self.terms = terms
        self.layout = ThetaLayout(tuple(terms))
        self._Ts = [np.zeros((t.k, t.k)) for t in terms]
        self._cols = np.cumsum([0, *(t.k for t in terms)])
        outer = terms[int(np.argmin([t.nlev for t in terms]))]
        order = np.argsort(outer.refs, kind="stable")
        _, starts = np.unique(outer.refs[order], return_index=True)
        # the rows of each outer level; crossed: one group of all rows
        self._groups = [np.arange(model.n)] if crossed else np.split(order, starts[1:])
        # per outer level and term: the term's levels there and each row's position among them
        self._local: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for rows in self._groups:
            per = []
            for t in terms:
                levels, where = np.unique(t.refs[rows], return_inverse=True)
                per.append((levels, where))
            self._local.append(per)

    @classmethod
    def build_nested(
        cls, terms: list[ReTerm], M: np.ndarray, p: int, model: ResidualModel
    ) -> NestedOrthogonal | None:
        """The criterion, or None when some term's level spans two levels of the term with
        fewest levels (crossed terms)."""
        outer = terms[int(np.argmin([t.nlev for t in terms]))]
        if not all(_nested(t, outer) for t in terms):
            return None
        return cls(terms, M, p, model)

    @classmethod
    def build_crossed(
        cls, terms: list[ReTerm], M: np.ndarray, p: int, model: ResidualModel
    ) -> NestedOrthogonal | None:
        """The criterion of crossed terms as one dense problem (see the module docstring), or
        None above :data:`MAX_DENSE_CELLS`."""
        if not _dense_fits(terms, model.n):
            return None
        return cls(terms, M, p, model, crossed=True)

    def _random_part(
        self, theta: np.ndarray, W: np.ndarray
    ) -> tuple[float, np.ndarray, list[Levels]]:
        """log|L_Z|², the fixed effects' rows left per outer level and its triangles."""
        assert self.layout is not None
        self.layout.fill_templates(theta, list(range(len(self.terms))), self._Ts)
        K, c = int(self._cols[-1]), W.shape[1] - int(self._cols[-1])
        ldL2, tails, levels = 0.0, [], []
        for g, (rows, per) in enumerate(zip(self._groups, self._local, strict=True)):
            sizes = [lv.size * t.k for (lv, _), t in zip(per, self.terms, strict=True)]
            q, m = int(sum(sizes)), rows.size
            B = np.zeros((m + q, q + c))
            off = 0
            for i, ((lv, where), t) in enumerate(zip(per, self.terms, strict=True)):
                Zt = W[rows, self._cols[i] : self._cols[i + 1]] @ self._Ts[i]
                cols = off + where[:, None] * t.k + np.arange(t.k)
                B[np.arange(m)[:, None], cols] = Zt
                off += lv.size * t.k
            B[:m, q:] = W[rows, K:]
            B[m:, :q] = np.eye(q)
            R = _triangle(B[None])[0]
            d = np.abs(np.diagonal(R[:q, :q]))
            ldL2 += 2.0 * float(np.log(d).sum())
            tails.append(R[q:, q:])
            levels.append((np.array([g]), R[None, :q, :q], R[None, :q, q:]))
        return ldL2, np.vstack(tails), levels

    def _blups(self, levels: list[Levels], beta: np.ndarray) -> list[np.ndarray]:
        """Each term's BLUPs from each outer level's triangles."""
        p = self.p
        us = [np.zeros((t.nlev, t.k)) for t in self.terms]
        for ids, R11, R12 in levels:
            u = np.linalg.solve(R11[0], R12[0, :, p] - R12[0, :, :p] @ beta)
            off, local = 0, self._local[int(ids[0])]
            for i, ((lv, _), t) in enumerate(zip(local, self.terms, strict=True)):
                us[i][lv] = u[off : off + lv.size * t.k].reshape(lv.size, t.k)
                off += lv.size * t.k
        return [u @ T.T for u, T in zip(us, self._Ts, strict=True)]


def crossed_inexact(terms: list[ReTerm], model: ResidualModel, phi: np.ndarray) -> str | None:
    """A warning's text when a fit with crossed random-effects terms ended at tiny VarIdent
    ratios (spread below :data:`.orthogonal.TINY`) and their dense QR is too large
    (:data:`MAX_DENSE_CELLS`): its criterion came from the cross products, which lose
    ~1e-16/δ² of its precision there; else None."""
    variance = model.variance
    if len(terms) < 2 or variance is None:
        return None
    spread = variance.spread(model.split(np.asarray(phi, dtype=float))[1])
    if not spread < TINY:
        return None
    outer = terms[int(np.argmin([t.nlev for t in terms]))]
    if all(_nested(t, outer) for t in terms) or _dense_fits(terms, model.n):
        return None
    return (
        f"the residual variance function's multipliers spread over {spread:.1e} (< {TINY:g}) "
        "and the random-effects terms are crossed, too many rows × random effects for their dense "
        "QR (MAX_DENSE_CELLS): the criterion comes from cross products, "
        f"inaccurate there (~{1e-16 / spread**2:.0e} relative in the residual sum of squares; "
        "the log-likelihood was ~1e-4 off at a ratio of 6e-5 with one term); refit with nested "
        "terms or without the tiny stratum to check"
    )


def _nested(term: ReTerm, outer: ReTerm) -> bool:
    """Whether each level of ``term`` lies in one level of ``outer``."""
    pairs = np.unique(np.stack([term.refs, outer.refs]), axis=1)
    return bool(pairs.shape[1] == np.unique(term.refs).size)


def _dense_fits(terms: list[ReTerm], n: int) -> bool:
    """Whether the dense QR of crossed ``terms`` on n rows is within :data:`MAX_DENSE_CELLS`."""
    q = sum(t.q for t in terms)
    return (n + q) * (q + 1) <= MAX_DENSE_CELLS
