"""Restarts of an AR(1) residual fit beside a structured random-effects term (issue 12, rv11).

With ``ar1(0 + occf | Subject, hom=False)`` and ``residual=mf.AR1("occ", "Subject")`` the term's
covariance and the residual's σ² Λ_R(φ) describe the same within-subject covariance, and the
likelihood has a mode for each way of sharing it. Flipping the sign of every other occasion,
D = diag((−1)^t), maps Λ_R(φ) to D Λ_R(−φ) D and the term's ar1 correlation ρ to −ρ, so a
mode at (ρ, φ) has a mirrored companion at about (−ρ, −φ) (the two differ only through y and
X, which D does not leave alone). One optimization ends at whichever mode its start leads to
(reviewer rv11, tests/reference/cov_rar1_multi; R's dense criterion maximized from six starts):

- seed 4, REML and ML: converged at φ̂ = −0.58, ρ = +0.60, no warning, ℓ 0.10 / 0.12 below R's
  optimum at φ = +0.585, ρ = −0.64;
- seed 0, ML: crawled to the σ → 0 limit (the term taking all the covariance), 0.028 below an
  interior optimum at φ = 0.005;
- seed 5, ML: ran to φ → 1 (the residual a random intercept), and the edge φ → −1 was named as
  the supremum, while R's optimum is inside (φ = 0.64, ρ = 0.71), above both edges.

:func:`restarted` optimizes such a fit again from (1) its mirror: the fit's θ with the
structured terms' sign-symmetric correlations negated (ar1's ρ; toep's partial
autocorrelations of odd lag) and −φ; (2) φ = ±:data:`PHI_START` with the fit's θ scaled to a
largest relative sd of at most :data:`SD_START` (the residual at least as large as the term:
from the fit's own scale, seed 5's starts run back to φ → 1), and keeps the lowest criterion
(lower by more than :data:`..restart.RESTART_GAIN`; every evaluation counted). A fit at the
σ → 0 limit (φ not identified there) restarts with θ scaled the same way. It runs before the
fit is moved to the limit (:mod:`.limit`) and before the edges φ → ±1 are checked
(:mod:`.edge`), so the limit is taken, and an edge named, only when it is above every restart.

Where: only an AR(1) residual correlation (:class:`.correlation.AR1Part`, its φ unbounded and
sign-symmetric) beside a structured term (:mod:`..structures`) whose grouping holds the
residual's subjects (always, :func:`.criterion.check_nested`): the two then compete for the same
covariance. A random intercept beside an AR(1) residual (Orthodont, BodyWeight) has no mirror
(D J D ≠ J), and its fits pay nothing. Arrays only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..restart import RESTART_GAIN
from ..reterm import ReTerm, ThetaLayout
from ..vanishing import at_limit
from .correlation import AR1Part
from .result import ResidualFit
from .structure import ResidualModel

__all__ = [
    "EDGE_PHI",
    "PHI_START",
    "RESTART_EVALS",
    "SD_START",
    "applies",
    "inside",
    "restart_points",
    "restarted",
]

PHI_START = 0.5
"""|φ| of the two restarts on either side."""
SD_START = 1.0
"""The largest relative sd (sd / σ) of the θ the φ = ±:data:`PHI_START` restarts take."""
RESTART_EVALS = 2_000
"""Evaluations of a restart before it is judged (:func:`restarted`)."""
EDGE_PHI = 0.99
"""|φ| from which a restart has run to an edge φ → ±1 (:func:`inside`)."""

FitOne = Callable[[ResidualModel, np.ndarray, int], ResidualFit]
"""A fit of the model from x0 = (θ, φ) within a budget (:func:`.fit.fit_residual`'s)."""


def applies(terms: Sequence[ReTerm], model: ResidualModel) -> bool:
    """True for an AR(1) residual correlation beside a structured random-effects term."""
    if not terms or not isinstance(model.correlation, AR1Part):
        return False
    return any(term.structure is not None for term in terms)


def restart_points(fit: ResidualFit, layout: ThetaLayout) -> list[tuple[str, np.ndarray]]:
    """The restarts' labels and x0 = (θ, φ): the mirror, then φ = +/−:data:`PHI_START`."""
    theta = np.asarray(fit.theta, dtype=float)
    phi = np.asarray(fit.phi, dtype=float)  # the correlation's u first (ResidualModel.split)
    scaled = _scaled(theta, layout)
    limit = at_limit(theta, layout)  # φ not identified there: no mirror of it
    mirrored = phi.copy()
    mirrored[0] = -phi[0]
    points = [("mirror", np.concatenate([_mirrored(scaled if limit else theta, layout), mirrored]))]
    for sign, label in ((1.0, "φ = +0.5"), (-1.0, "φ = −0.5")):
        side = phi.copy()
        side[0] = sign * PHI_START / np.sqrt(1.0 - PHI_START**2)  # u of φ = ±0.5
        points.append((label, np.concatenate([scaled, side])))
    return points


def restarted(
    fit: ResidualFit,
    terms: Sequence[ReTerm],
    fit_one: FitOne,
    max_evals: int,
) -> ResidualFit:
    """``fit`` or the best of its restarts (:func:`restart_points`) when that ends inside
    (:func:`inside`) and lower by more than :data:`..restart.RESTART_GAIN`, the record's
    ``start`` naming it and its evaluations those of every optimization; ``fit`` itself where
    :func:`applies` does not hold.

    Each restart has at most :data:`RESTART_EVALS` evaluations (a restart running to an edge
    φ → ±1 crawls along it for thousands); one stopped there inside and lower than the best
    goes on from where it stopped with the evaluations left."""
    if not applies(terms, fit.model) or fit.phi.size == 0:
        return fit
    layout = ThetaLayout(tuple(terms))
    best, total = fit, fit.record.evaluations
    for label, x0 in restart_points(fit, layout):
        budget = min(RESTART_EVALS, max_evals - total)
        if budget <= 0:
            break
        other = _run(fit_one, fit.model, x0, budget)
        if other is None:
            continue
        total += other.record.evaluations
        if not (inside(other, layout) and other.objective < best.objective - RESTART_GAIN):
            continue
        if other.record.evaluations >= budget and max_evals > total:  # stopped on the way
            more = _run(fit_one, fit.model, np.asarray(other.record.theta), max_evals - total)
            if more is None:
                continue
            total += more.record.evaluations
            if not (inside(more, layout) and more.objective < best.objective - RESTART_GAIN):
                continue
            other = more
        best = replace(other, record=replace(other.record, start=label))
    return replace(best, record=replace(best.record, evaluations=total))


def inside(fit: ResidualFit, layout: ThetaLayout) -> bool:
    """True if ``fit`` ends inside: |φ| below :data:`EDGE_PHI` (an edge φ → ±1 is
    :mod:`.edge`'s to judge) and not at the σ → 0 limit (:mod:`.limit`'s)."""
    u = float(fit.phi[0])
    return abs(u) < EDGE_PHI / np.sqrt(1.0 - EDGE_PHI**2) and not at_limit(fit.theta, layout)


def _run(fit_one: FitOne, model: ResidualModel, x0: np.ndarray, budget: int) -> ResidualFit | None:
    try:
        return fit_one(model, x0, budget)
    except np.linalg.LinAlgError:
        return None


def _scaled(theta: np.ndarray, layout: ThetaLayout) -> np.ndarray:
    """θ with every entry scaled by 1/σ (an ordinary term's, a structured term's sds) shrunk
    by one factor so that the largest is at most :data:`SD_START`."""
    mask = _sd_mask(layout)
    largest = float(np.abs(theta[mask]).max()) if mask.any() else 0.0
    if largest <= SD_START:
        return theta.copy()
    out = theta.copy()
    out[mask] *= SD_START / largest
    return out


def _sd_mask(layout: ThetaLayout) -> np.ndarray:
    """True where θ scales with 1/σ: every entry of an ordinary term, a structured term's sds."""
    parts = [
        np.ones(term.npar, dtype=bool) if term.structure is None else term.structure.sd_mask()
        for term in layout.terms
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _mirrored(theta: np.ndarray, layout: ThetaLayout) -> np.ndarray:
    """θ with the structured terms' correlations mapped by D = diag((−1)^t) over the term's
    columns: ar1's ρ → −ρ, toep's partial autocorrelation of lag m times (−1)^m; cs and
    diag (no mirror in their box) and ordinary terms as they are."""
    out = theta.copy()
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        structure = term.structure
        if structure is None or structure.kind not in ("ar1", "toep"):
            continue
        start = off + structure.n_sd
        lags = np.arange(1, structure.n_cor + 1)
        out[start : start + structure.n_cor] *= (-1.0) ** lags
    return out
