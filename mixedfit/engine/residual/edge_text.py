"""The BoundaryWarning of a residual-path fit reported at the φ = ±1 edge of its AR(1) residual
correlation (:func:`edge_message`, split from :mod:`.edge_fit`; a ``by=`` group's named, lane
byedge). Text only.
"""

from __future__ import annotations

import math

__all__ = ["edge_message"]


def edge_message(
    sign: float,
    loglik: float,
    replaced: tuple[float, float | None] | None = None,
    term_bound: bool = False,
    vanished: str = "",
    group: str = "",
) -> str:
    """The BoundaryWarning of a fit reported at the edge φ = ``sign`` (ℓ there ``loglik``;
    ``replaced``: ℓ and φ of the best fit inside that it replaced, φ None where that was the
    σ → 0 limit (the structured term taking all the within-subject covariance, φ not
    identified), NaN where the ``by=`` group's residual variance had vanished there (its φ not
    identified; lane lows29); None on reload). ``term_bound``: a structured random-effects
    term is at a bound too (:func:`term_at_bound`), said in its own sentence before the advice.
    ``vanished``: :func:`.edge_vanish.vanished_clause` (VarIdent strata whose residual variance
    vanishes at the edge), its own sentence too. ``group``: a ``by=`` group's φ (named)."""
    edge = "1" if sign > 0 else "−1"
    what = (
        "the residuals within a subject are perfectly correlated: σ² Λ_R = σ² 1 1' is a "
        "per-subject random intercept of variance σ²"
        if sign > 0
        else "σ² Λ_R = σ² ((−1)^(s+t)) is a per-subject effect of variance σ² on the "
        "alternating sign (−1)^t"
    )
    alternative = (
        "(1 | subject) beside the structured term, without the AR(1) residual"
        if sign > 0
        else "a per-subject random slope on the alternating sign (−1)^t, without the AR(1) residual"
    )
    if replaced is None:
        above = ""
    elif replaced[1] is not None and math.isnan(replaced[1]):  # a by= group's vanished there
        above = (
            f", above ℓ = {replaced[0]:.6f} of the best fit found inside, where the residual "
            "variance of a group now at its edge had vanished, its φ not identified"
        )
    elif replaced[1] is None:
        above = (
            f", above ℓ = {replaced[0]:.6f} of the σ → 0 limit, the best fit found inside, where "
            "the structured term takes all the within-subject covariance and φ is not identified"
        )
    else:
        above = (
            f", above ℓ = {replaced[0]:.6f} at φ = {replaced[1]:.6f}, the best fit found inside "
            "(of the fit, its restarts and a fit from the edge's optimum)"
        )
    return (
        f"φ{_of(group)} = {edge}: the AR(1) residual correlation{_of(group)} is at its bound "
        f"(ℓ = {loglik:.6f} there"
        f"{above}); the fit is reported at φ = {edge}, where {what} and no residual noise remains "
        "beyond it and the structured term (V = Z G Z' + σ² Λ_R stays positive definite). "
        "The likelihood, β, their standard errors and the BLUPs are that model's; normalized "
        f"residuals are not defined there (NaN{' in its rows' if group else ''}), and inference "
        "on φ is not available. "
        f"{_TERM_BOUND if term_bound else ''}{_sentence(vanished)}"
        f"{_by_advice(sign, group) if group else f'Consider fitting {alternative} instead'}"
    )


def _by_advice(sign: float, group: str) -> str:
    """The advice of a ``by=`` group's edge (rv26 LOW-2: "without the AR(1) residual" does not
    fit by=, where the other groups' φ stay inside and are estimated as usual)."""
    effect = "a per-subject random intercept" if sign > 0 else "a per-subject effect on (−1)^t"
    return (
        f"With by= each group has its own φ, and the groups whose φ is inside keep their AR(1) "
        "correlation, estimated as usual: accept the boundary fit, or model the within-subject "
        f"covariance of the groups at a bound ({group!r} here: {effect} on its rows) by such an "
        "effect on their rows instead of their AR(1) correlation"
    )


_TERM_BOUND = (
    "The structured random-effects term is at a bound too: a correlation parameter is at ±1, "
    "so its covariance G is singular. "
)


def _of(group: str) -> str:
    """ " of group 'g' (by=)" naming a ``by=`` group ("" for none)."""
    return f" of group {group!r} (by=)" if group else ""


def _sentence(clause: str) -> str:
    """``clause`` as a sentence followed by a space ("" stays "")."""
    return f"{clause[0].upper()}{clause[1:]}. " if clause else ""
