"""Ordinary terms crossed with a structured term's groups at the σ → 0 limit.

``(1 | item) + ar1(0 + tf | subject)`` with items crossed with subjects: the limit model of
:mod:`.limit_gls` is exact only while the crossed terms' θ is 0 (V block diagonal by subject).
A crossed θ that is 0 in all but rounding (:func:`held_small`) is taken as 0 and the exact
value reported (the ray's, at :data:`.vanishing.LIMIT_SD`, can be rounded above the
supremum); a crossed term that stays positive is evaluated on the ray only, whose value
cancels ~8 digits (ℓ 1e-2 short, moved by a shift of y): :func:`crossed_check` says so
(a ConvergenceWarning). Arrays only.
"""

from __future__ import annotations

import numpy as np

from .convergence import ConvergenceCheck
from .reterm import ThetaLayout

__all__ = ["CROSSED_SMALL", "crossed_check", "held_small"]

#: a crossed term's θ below this times the largest |θ| at the limit counts as vanished
CROSSED_SMALL = 1e-6


def _held(theta: np.ndarray, layout: ThetaLayout, held: frozenset[int]) -> list[np.ndarray]:
    return [theta[layout.offsets[i] : layout.offsets[i] + layout.terms[i].npar] for i in held]


def held_small(theta: np.ndarray, layout: ThetaLayout, held: frozenset[int]) -> bool:
    """Whether every term in ``held`` (crossed with the spanning term's groups) has |θ| at
    most :data:`CROSSED_SMALL` times the largest |θ|: vanished in all but rounding."""
    theta = np.asarray(theta, dtype=float)[: layout.size]
    top = float(np.max(np.abs(theta))) if theta.size else 0.0
    return all(np.all(np.abs(part) <= CROSSED_SMALL * top) for part in _held(theta, layout, held))


def crossed_check(
    theta: np.ndarray, layout: ThetaLayout, held: frozenset[int]
) -> ConvergenceCheck | None:
    """A failed convergence check (its message for the ConvergenceWarning) when a term in
    ``held`` stays positive at the σ → 0 limit θ (no exact criterion there); None otherwise."""
    theta = np.asarray(theta, dtype=float)
    if not held or held_small(theta, layout, held):
        return None
    m = len(theta)
    message = (
        "the residual variance vanished (σ → 0) while a random-effect term crossed with the "
        "structured term's groups (not nested in them) kept a positive variance: that limit "
        "has no exact criterion and is evaluated to ~1e-4 relative only (the log-likelihood "
        "and estimates may be off and may change with a shift of the response). Refit with "
        "the structured part as a residual structure (residual=mf.AR1(...) instead of "
        "ar1(0 + f | g)) or without the crossed term, and compare."
    )
    nan = np.full((m, m), np.nan)
    return ConvergenceCheck(np.zeros(m), nan, np.zeros(m, dtype=bool), float("nan"), message)
