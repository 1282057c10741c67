"""Degrees of freedom at a spatial range bound: estimable functions of the overall level.

A spatial correlation with a nugget can run along its ridge to the range bound (REML,
:mod:`..engine.residual.spatial`; Wheat2 spherical/exponential + nugget): there V = V₀ + s B with
s → ∞ and B = Σ_g 1_g 1_g' (one all-ones block per subject, one block without a subject). The
REML likelihood, β̂ and every contrast orthogonal to B are identified in that limit; the variance
of l'β̂ grows like s (l'a)² along each β-direction a with X a = 1_g (the overall level of a
block, e.g. the intercept, or the sum of the cell means of ``0 + variety``), so its value at the
bound is arbitrary (how far along the ridge the bound is) and so is its Satterthwaite or
Kenward–Roger df (Wheat2's cell means: df 0.08, intervals ±6e19). nlme's ``gls`` reports such
standard errors with N − p df without a warning; lmerTest has no such model. Here the df, p and
intervals of those rows are NaN and a :class:`~mixedfit.exceptions.BoundaryWarning` says why;
contrasts (l'a = 0: differences of varieties) keep their df. Kenward–Roger refuses such fits
(:func:`.residual_kr.residual_kr_adjusted`): its adjustment needs the information of the variance
parameters, singular along the ridge (at Wheat2's bound it shrank the contrasts' variances).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import BoundaryWarning

if TYPE_CHECKING:
    from ..model import ResidualModelFit

__all__ = ["LEVEL_TOL", "level_directions", "level_rows", "warn_level"]

LEVEL_TOL = 1e-8
"""Relative size of l'a (and of X a − 1_g) below which it counts as 0."""


def level_directions(fit: ResidualModelFit) -> np.ndarray | None:
    """The β-directions a (columns, X a = 1_g) whose variance diverges at a range bound; None
    when the structure is not at a bound or no block's level is in the column space of X."""
    engine = fit._engine
    if engine.model.at_bound(engine.phi) is None:
        return None
    X = np.asarray(fit._design.X, dtype=float)
    subject = np.asarray(engine.model.subject)
    S = np.zeros((len(subject), int(subject.max()) + 1 if len(subject) else 0))
    S[np.arange(len(subject)), subject] = 1.0
    A, *_ = np.linalg.lstsq(X, S, rcond=None)
    miss = np.linalg.norm(S - X @ A, axis=0)
    keep = miss <= LEVEL_TOL * np.linalg.norm(S, axis=0)
    return A[:, keep] if keep.any() else None


def level_rows(fit: ResidualModelFit, L: np.ndarray) -> np.ndarray:
    """True for each row l of L with l'a ≠ 0 for a direction a of :func:`level_directions`."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    A = level_directions(fit)
    if A is None:
        return np.zeros(L.shape[0], dtype=bool)
    size = np.linalg.norm(L, axis=1) * np.linalg.norm(A, axis=0).max()
    return np.linalg.norm(L @ A, axis=1) > LEVEL_TOL * np.maximum(size, np.finfo(float).tiny)


def warn_level(fit: ResidualModelFit, what: str) -> None:
    """The BoundaryWarning for ``what`` (e.g. "the df of 3 coefficients") set to NaN."""
    warnings.warn(
        f"{what} set to NaN: the spatial range is at its bound (the fit's BoundaryWarning), "
        "where the variance of an estimable function of the overall level (the intercept, or "
        "a sum of cell means) is arbitrary, and so is its Satterthwaite df (Kenward-Roger "
        "refuses such fits); contrasts between levels keep their df",
        BoundaryWarning,
        stacklevel=4,
    )
