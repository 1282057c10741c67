"""A residual-path model with a spanning structured term, by dense blocks per group (issue 12).

With a structured term that has one effect per observation (``ar1(0 + occf | Subject,
hom=False)``, :mod:`..limit_gls`) and a residual structure whose subjects nest in its groups
(``residual=mf.AR1("occ", "Subject")``), V / σ² = Z Λ Λ' Z' + Λ_R(φ) is block diagonal by the
term's groups. :class:`DenseResidual` evaluates the model's criterion by a Cholesky factor of
each group's block, without whitening the rows by Λ_R(φ) first: stable as σ → 0 (θ ~ 1e4, where
the blocked factor of the whitened rows cancels ~8 digits, and more where Λ_R is nearly singular:
seed 1 of tests/reference/cov_rar1_limit, an AR(1) residual at φ = 0.9991, 1.3e-3 below the
limit in the deviance). Its limit (Λ_R's weight 0) is the exact σ → 0 limit, where φ is not
identified: :func:`residual_limit_criteria` gives both as the crawl's
:class:`..vanishing.LimitCriteria`, the exact one reading θ alone. Arrays only.
"""

from __future__ import annotations

import numpy as np

from ..limit_gls import LimitModel, _spanning
from ..reterm import ReTerm, ThetaLayout
from ..vanishing import LimitCriteria
from .structure import ResidualModel

__all__ = ["DenseResidual", "residual_limit_criteria"]


class DenseResidual(LimitModel):
    """V / σ² = Z Λ Λ' Z' + w Λ_R(φ) by the spanning term's groups (w = the ``nugget`` of
    :meth:`.LimitModel.criterion`: 1 the model, 0 its σ → 0 limit).

    Parameters
    ----------
    layout : ThetaLayout
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    span : int
        The spanning term (:func:`..limit_gls.limit_model`).
    model : ResidualModel
        Bound to the same rows; its subjects nested in the spanning term's groups.
    """

    def __init__(
        self, layout: ThetaLayout, X: np.ndarray, y: np.ndarray, span: int, model: ResidualModel
    ) -> None:
        super().__init__(layout, X, y, 0.0, span)
        self.model = model
        n = X.shape[0]
        self._group = np.zeros(n, dtype=np.intp)  # each row's group and place in its block
        self._slot = np.zeros(n, dtype=np.intp)
        for i, (rows, pad) in enumerate(zip(self.rows, self.pad, strict=True)):
            real = rows[~pad]
            self._group[real] = i
            self._slot[real] = np.arange(len(real))
        self._phi: bytes | None = None
        self._resid = np.zeros((*self.pad.shape, self.pad.shape[1]))

    def residual_blocks(self, phi: np.ndarray) -> np.ndarray:
        """Λ_R(φ) by the spanning term's groups, shape (groups, m, m); 0 at the pads (kept for
        the last φ)."""
        phi = np.asarray(phi, dtype=float)
        key = phi.tobytes()
        if key != self._phi:
            self._resid[:] = 0.0
            for rows in self.model.batches:  # one residual subject per row of ``rows``
                g = self._group[rows[:, 0]]
                s = self._slot[rows]
                self._resid[g[:, None, None], s[:, :, None], s[:, None, :]] = self.model.blocks(
                    phi, rows
                )
            self._phi = key
        return self._resid

    def _blocks(self, theta: np.ndarray, nugget: float) -> np.ndarray | None:
        """Lower Cholesky factors of Z Λ Λ' Z' + nugget Λ_R(φ) (φ of the last
        :meth:`residual_blocks`), 1 at the pads; None where singular."""
        V = self.covariance(theta)
        if nugget:
            V += nugget * self._resid
        diagonal = np.einsum("gii->gi", V)
        diagonal += self.pad
        try:
            return np.asarray(np.linalg.cholesky(V))
        except np.linalg.LinAlgError:
            return None

    def objective(self, x: np.ndarray, reml: bool) -> float:
        """The model's criterion at x = (θ, φ) (inf where V is singular)."""
        x = np.asarray(x, dtype=float)
        self.residual_blocks(x[self.layout.size :])
        return self.criterion(x[: self.layout.size], reml, 1.0)


def residual_limit_criteria(
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    model: ResidualModel,
    reml: bool,
    spent: list[int] | None = None,
) -> LimitCriteria | None:
    """The crawl's criteria of x = (θ, φ) (:class:`..vanishing.LimitCriteria`): the model's by
    :class:`DenseResidual` and its σ → 0 limit's of θ alone (``size``); None without a spanning
    term. The dense model is built at the first evaluation; ``spent[0]`` (the fit's count of
    evaluations, which max_evals caps) is raised by one at each."""
    count = [0] if spent is None else spent
    if not terms or X.shape[0] <= X.shape[1]:
        return None
    layout = ThetaLayout(tuple(terms))
    span = _spanning(layout)
    if span is None:
        return None
    built: list[DenseResidual] = []

    def dense() -> DenseResidual:
        if not built:
            built.append(DenseResidual(layout, X, y, span, model))
        return built[0]

    n = layout.size

    def marginal(x: np.ndarray) -> float:
        count[0] += 1
        return dense().objective(x, reml)

    def exact(x: np.ndarray) -> float:
        count[0] += 1
        return dense().criterion(np.asarray(x, dtype=float)[:n], reml)

    return LimitCriteria(marginal, exact, size=n)
