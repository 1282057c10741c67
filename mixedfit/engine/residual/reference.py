"""A VarIdent reference stratum whose variance vanishes at the optimum, and the watch of strata
running off to 0.

nlme fixes the reference stratum's ratio at 1 (σ is its sd). When that stratum's variance
vanishes, σ → 0 and every other ratio → ∞ together, and BOBYQA crawls along the joint direction
and stops short (a small data set with the vanishing stratum first: 3–4 thousand evaluations, the
deviance 2.5e-4 above the same model with the strata reordered, no warning).

:class:`Watch` interrupts a fit at :data:`WATCH_EVALS` when strata run off to 0
(:func:`candidates`, the reference's included); :mod:`.probe` then tests their boundary in the
parameterization referred to the largest stratum, so that the boundary point is the same
whichever stratum is nlme's reference. A fit that ends without being interrupted is looked at
once more: :func:`moved` recognizes a reference sd below :data:`WATCH_RATIO` times the largest
and gives the model whose reference is the smallest stratum above that, the point mapped to it
and the map back (:func:`.rereference.reference_vanished` goes on there and keeps the lower
criterion).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from ..optimize import OptimizerRecord
from ..reterm import ThetaLayout
from .structure import ResidualModel
from .variance import FLOOR, VANISHED, IdentPart

__all__ = [
    "FALL",
    "PROBE_RATIO",
    "RUN_OFF",
    "WATCH_EVALS",
    "WATCH_RATIO",
    "Moved",
    "Watch",
    "candidates",
    "moved",
    "relative_sds",
    "sd_mask",
    "vanished_strata",
]

Map = Callable[[np.ndarray], np.ndarray]
WATCH_EVALS = (300, 1_000, 2_000)
"""Evaluation counts at which a fit's strata are looked at (:class:`Watch`)."""
RUN_OFF = 0.01
"""A stratum's sd below this times the largest at a count of :data:`WATCH_EVALS` is probed for a
vanished variance (:mod:`.probe`)."""
PROBE_RATIO = 0.1
"""… and from the second count on, one below this times the largest that fell by a factor
:data:`FALL` since the previous count (running off, not settled)."""
FALL = 1.5
WATCH_RATIO = 1e-3
"""A reference sd below this times the largest at the end of a fit moves the reference
(:func:`.rereference.reference_vanished`): the fit is the same in either parameterization, and
goes further in log δ there."""


class Moved(Exception):  # noqa: N818 (control flow, not an error)
    """Raised by :meth:`Watch.see` to probe the boundary (:mod:`.probe`)."""

    def __init__(self, record: OptimizerRecord, strata: list[int]) -> None:
        super().__init__("VarIdent strata's variances are running off to 0")
        self.record, self.strata = record, strata


class Watch:
    """Watches a fit's evaluations (:meth:`see`): at each of :data:`WATCH_EVALS`, when the best
    point so far has strata running off to 0 (:func:`candidates`; a vanishing reference stratum
    among them), raises :class:`Moved` with it and them (the optimizer is interrupted; a fit that
    does not trigger runs exactly as unwatched)."""

    def __init__(self, model: ResidualModel, layout: ThetaLayout | None) -> None:
        self.model, self.layout = model, layout
        self.on = isinstance(model.variance, IdentPart) and bool(model.variance.free)
        self.count, self.best_f = 0, math.inf
        self.best_x: np.ndarray | None = None
        self.before: np.ndarray | None = None  # the relative sds at the previous count
        self.began = time.perf_counter()

    def see(self, x: np.ndarray, f: float) -> None:
        if not self.on:
            return
        self.count += 1
        if f < self.best_f:
            self.best_f, self.best_x = f, np.array(x, dtype=float)
        if self.count not in WATCH_EVALS or self.best_x is None:
            return
        strata = candidates(self.model, self.best_x, self.before)
        self.before = relative_sds(self.model, self.best_x)
        if not strata:
            return
        raise Moved(
            OptimizerRecord(
                method="NLopt LN_BOBYQA",
                evaluations=self.count,
                objective=self.best_f,
                theta=self.best_x,
                theta_start=self.best_x,
                gradient=None,
                converged=False,
                message="interrupted: VarIdent strata's variances are running off to 0",
                seconds=time.perf_counter() - self.began,
            ),
            strata,
        )


def relative_sds(model: ResidualModel, x: np.ndarray) -> np.ndarray | None:
    """Each VarIdent stratum's sd over the largest at x = (θ, φ), or None without a lone
    VarIdent variance part with free ratios."""
    part = model.variance
    if not isinstance(part, IdentPart) or not part.free:
        return None
    deltas = part.deltas(model.split(x[len(x) - model.size :])[1])
    return np.asarray(deltas / deltas.max())


def candidates(model: ResidualModel, x: np.ndarray, before: np.ndarray | None = None) -> list[int]:
    """The strata (indices of the VarIdent labels, the reference's included, fixed ones and
    those the probe released not) running off to 0 at x = (θ, φ): their sd below
    :data:`RUN_OFF` times the largest, or, given the relative sds at the previous look
    (``before``), below :data:`PROBE_RATIO` times it and fallen by a factor :data:`FALL`
    since; [] without a lone VarIdent variance part."""
    rel = relative_sds(model, x)
    if rel is None:
        return []
    small = rel < RUN_OFF
    if before is not None:
        small |= (rel < PROBE_RATIO) & (rel * FALL < before)
    part = model.variance
    assert isinstance(part, IdentPart)
    return [int(g) for g in np.flatnonzero(small) if g not in part.fixed and g not in part.interior]


def sd_mask(layout: ThetaLayout) -> np.ndarray:
    """Which θ scale with σ (all of an unstructured term's Cholesky entries, a structured term's
    sds; not its correlations), shape (n_theta,), bool."""
    parts = []
    for term in layout.terms:
        structure = term.structure
        parts.append(np.ones(term.npar, bool) if structure is None else structure.sd_mask())
    return np.concatenate(parts) if parts else np.zeros(0, bool)


def moved(
    model: ResidualModel, x: np.ndarray, layout: ThetaLayout | None, ratio: float = VANISHED
) -> tuple[ResidualModel, np.ndarray, Map] | None:
    """(the model with another VarIdent reference, the smallest stratum not vanishing, x = (θ, φ)
    mapped to it, the map of its x back) when the reference stratum's sd is below ``ratio``
    (default :data:`~.variance.VANISHED`) times the largest stratum's; None otherwise (or
    without a lone VarIdent variance part)."""
    part = model.variance
    if not isinstance(part, IdentPart) or not part.free:
        return None
    n_theta = len(x) - model.size
    theta, phi = x[:n_theta], x[n_theta:]
    pc, pv = model.split(phi)
    deltas = part.deltas(pv)
    if not deltas[part.reference] < ratio * deltas.max():
        return None
    kept = np.flatnonzero(deltas >= ratio * deltas.max())
    new = part.with_reference(int(kept[np.argmin(deltas[kept])]))
    other = ResidualModel(model.n, model.subject, model.correlation, new)
    scale = np.ones(n_theta) if layout is None else np.where(sd_mask(layout), 1.0, 0.0)

    def mapped(z: np.ndarray, src: IdentPart, dst: IdentPart, nc: int) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        th, ph = z[:n_theta], z[n_theta:]
        eta = np.log(src.deltas(ph[nc:]))
        shift = eta[dst.reference]  # log of the new reference's δ on the old scale
        out_eta = (eta - shift)[dst.free]
        out_theta = th * np.exp(-shift * scale)  # θ relative to σ: σ' = σ δ_new
        return np.concatenate([out_theta, ph[:nc], out_eta])

    nc = pc.size
    there = mapped(np.concatenate([theta, phi]), part, new, nc)
    return other, there, lambda z: mapped(z, new, part, nc)


def vanished_strata(model: ResidualModel, phi: np.ndarray) -> list[str]:
    """The strata whose sd is within a factor 2 of the floor below the largest stratum's
    (:data:`~.variance.FLOOR`), when the reference stratum is among them; [] otherwise."""
    part = model.variance
    if not isinstance(part, IdentPart) or not part.free:
        return []
    deltas = part.deltas(model.split(phi)[1])
    small = deltas < 2.0 * FLOOR * deltas.max()
    if not small[part.reference]:
        return []
    return [part.labels[g] for g in np.flatnonzero(small)]
