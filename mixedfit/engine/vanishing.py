"""The σ → 0 limit of a fit with a structured random-effects term.

A structured term with one effect per observation (``ar1(0 + Daysf | Subject, hom=False)`` on
sleepstudy: each day seen once per subject) spans the covariance of a subject's rows by itself:
V = Z G Z' + σ²I tends, as σ → 0 with G fixed, to the covariance of a GLS (here a heterogeneous
AR(1) per subject, nlme's ``gls(corAR1 + varIdent)``), and the REML or ML supremum can lie in that
limit. In θ (relative to σ) the limit is θ → ∞ along a ray; the criterion falls like 1/θ² on it,
so BOBYQA crawls (18–25 thousand evaluations on sleepstudy, stopping 3e-4 to 1.4e-3 short in the
log-likelihood).

The limit is reached directly: the term's largest relative sd is held at :data:`LIMIT_SD`, and
every other sd of a random-effects term (all relative to σ) is scaled by the same factor, so the
remaining parameters — the shape of G relative to its largest sd, correlations, a residual
structure's φ — are optimized on a well-posed criterion, σ² still profiled (it takes the
overall scale). At :data:`LIMIT_SD` the criterion is the limit's to ~1e-8 relative: the limit
model is fitted. Where the limit has an exact form (:mod:`.limit_gls`: a term with one effect per
observation, other terms nested in its groups; :class:`LimitCriteria`) the blocked factor is not
used on the ray (at θ ~ 1e4 its r² cancels ~8 digits: criteria 1e-8 relative apart for y and
y + 1e4): the shape is optimized roughly on the GLS form of the criterion, then polished on the
exact limit (:mod:`.limit_polish`), whose value the record carries. The limit is accepted
when it is lower than the fit's criterion by more than :data:`~.restart.RESTART_GAIN` and
the criterion falls along the ray towards it (:func:`_towards_limit`); the record's ``start`` is
then :data:`LIMIT_START` (a restart that wins relabels it: :func:`at_limit` tells a limit point
by θ), and the caller warns (``mixedfit.BoundaryWarning``) naming the term
(:func:`limit_warning`).

A fit is tried at its limit when its first optimization spends :data:`WATCH_EVALS` evaluations
without converging and the criterion falls along the ray (:func:`.crawl.watched`; otherwise it
goes on from where it stopped, see there) or ends with a structured term's relative sd above
:data:`TRIAL_SD` (:func:`settle`). :func:`capped` marks a fit whose evaluations over all its
optimizations reached the caller's ``max_evals`` as unconverged (a ConvergenceWarning, never a
silent stop).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .limit_polish import exact_polish, polished, room
from .optimize import OptimizerRecord, minimize_theta
from .restart import RESTART_GAIN
from .reterm import ThetaLayout

__all__ = [
    "LIMIT_SD",
    "LIMIT_START",
    "TRIAL_SD",
    "WATCH_EVALS",
    "LimitCriteria",
    "anchor",
    "at_limit",
    "capped",
    "limit",
    "limit_term",
    "limit_warning",
    "message",
    "settle",
]

LIMIT_SD = 1e4
"""The largest relative sd (sd / σ) of a structured term at the limit point."""
TRIAL_SD = 10.0
"""A converged fit whose structured term has a relative sd above this is tried at its limit."""
WATCH_EVALS = 2_000
"""Evaluations of a first optimization (fits with a structured term) before the limit is tried."""
LIMIT_START = "σ → 0 limit"
"""The record's ``start`` when the fit was moved to the limit."""
_ROUGH = 1e-3  # the marginal optimization's relative xtol when polished exactly (_rough_xtol)
_RAY = (1e-2, 1e-1)  # fractions of LIMIT_SD where the criterion must not be lower

Objective = Callable[[np.ndarray], float]
Optimize = Callable[[np.ndarray | None, int], OptimizerRecord]


@dataclass(frozen=True)
class LimitCriteria:
    """Criteria of x = (θ, …) for a model with an exact σ → 0 limit (:mod:`.limit_gls`).

    Attributes
    ----------
    marginal : callable
        The model's criterion by the GLS form V = Z Λ Λ' Z' + I per group, stable at
        :data:`LIMIT_SD` (the blocked factor's value there cancels ~8 digits).
    exact : callable
        The limit's own criterion (V = Z Λ Λ' Z'); infinite where that is singular.
    size : int or None
        The leading entries of x that ``exact`` reads (θ: a residual structure's φ is not
        identified at the limit, :mod:`.residual.dense`), the only ones polished on it; None:
        all.
    rough : bool
        Whether ``marginal`` is minimized only roughly (:func:`_rough_xtol`) before the exact
        polish; False: to xtol 1e-7 (terms crossed with the spanning term's groups,
        :func:`.limit_cross_polish.crossed_criteria`: on Oxboys ``(1 | grp) + ar1(…)``, ρ near
        1, BOBYQA stops at the rough xtol without leaving its start, 0.3 % short).
    """

    marginal: Objective
    exact: Objective
    size: int | None = None
    rough: bool = True


def _sd_entries(layout: ThetaLayout) -> tuple[np.ndarray, np.ndarray]:
    """Masks over θ: entries scaled with 1/σ (every entry of an ordinary term, the sds of a
    structured one), and the sds of structured terms."""
    scaled, structured = [], []
    for term in layout.terms:
        if term.structure is None:
            scaled.append(np.ones(term.npar, dtype=bool))
            structured.append(np.zeros(term.npar, dtype=bool))
        else:
            sd = term.structure.sd_mask()
            scaled.append(sd)
            structured.append(sd)
    if not scaled:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    return np.concatenate(scaled), np.concatenate(structured)


def largest_sd(x: np.ndarray, layout: ThetaLayout) -> float:
    """The largest relative sd of a structured term at x = (θ, …); 0 without one."""
    if not layout.structured:
        return 0.0
    _, structured = _sd_entries(layout)
    sds = np.asarray(x[: layout.size])[structured]
    return float(sds.max()) if sds.size else 0.0


def at_limit(x: np.ndarray, layout: ThetaLayout) -> bool:
    """True if x = (θ, …) is a limit point of :func:`limit` (a structured sd at
    :data:`LIMIT_SD`)."""
    return largest_sd(x, layout) >= LIMIT_SD * (1 - 1e-9)


def anchor(theta: np.ndarray, layout: ThetaLayout) -> int:
    """Index in θ of the largest structured relative sd (held at :data:`LIMIT_SD` at the
    limit: the limit model's criterion is flat along it)."""
    _, structured = _sd_entries(layout)
    return int(np.argmax(np.where(structured, np.asarray(theta[: layout.size]), -np.inf)))


def limit_term(theta: np.ndarray, layout: ThetaLayout) -> int:
    """Index of the term holding the largest structured relative sd (the one that absorbs σ)."""
    return int(np.searchsorted(layout.offsets, anchor(theta, layout), side="right") - 1)


def limit_warning(x: np.ndarray, layout: ThetaLayout, names: Sequence[str]) -> str | None:
    """The BoundaryWarning's text for a fit at its σ → 0 limit (:func:`at_limit`), naming the
    term (``names``: the terms' groupings); None for any other fit."""
    if not at_limit(x, layout):
        return None
    i = limit_term(x, layout)
    structure = layout.terms[i].structure
    kind = "structured" if structure is None else structure.kind
    return message(names[i] if i < len(names) else f"term {i + 1}", kind)


def message(name: str, kind: str) -> str:
    """The BoundaryWarning's text for the term ``name`` of structure ``kind``."""
    return (
        f"σ → 0: the residual variance vanishes against the structured term {kind}(… | {name}), "
        "which spans each group's covariance by itself; the fit was moved to that limit (the "
        f"term's largest sd is {LIMIT_SD:g} σ): the model is a GLS with the term's covariance "
        "as the residual covariance. The likelihood, β, their standard errors and "
        "Satterthwaite df are that limit model's; fit it with residual= for the standard "
        "errors of its variance parameters and for Kenward-Roger df (refused here)."
    )


class _Ray:
    """The map z → x holding the anchor sd at ``LIMIT_SD`` (``level``), with the other entries
    of ``scaled`` multiplied by ``level / x0[anchor]``."""

    def __init__(self, x0: np.ndarray, layout: ThetaLayout) -> None:
        scaled, _ = _sd_entries(layout)
        m = len(x0)
        self.scaled = np.concatenate([scaled, np.zeros(m - layout.size, dtype=bool)])
        self.anchor = anchor(x0, layout)
        self.ref = float(x0[self.anchor])
        self.free = np.arange(m) != self.anchor

    def point(self, z: np.ndarray, level: float = LIMIT_SD) -> np.ndarray:
        x = np.empty(len(self.free))
        x[self.free] = z
        x[self.anchor] = self.ref
        x[self.scaled] *= level / self.ref
        return x


def limit(
    fun: Objective,
    x0: np.ndarray,
    layout: ThetaLayout,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    exact: LimitCriteria | None = None,
) -> OptimizerRecord | None:
    """The limit fit from x0 = (θ, φ): the criterion minimized with the anchor's relative sd
    (:func:`anchor`) held at :data:`LIMIT_SD`; None without a positive structured sd or when it
    cannot be evaluated (or ``max_evals`` leaves none for it). The record's θ is the full x at
    the limit point; its evaluations, all stages' within ``max_evals`` (the ray check's,
    :func:`_towards_limit`, included; but the exact criterion's at the rough optimum), and its
    objective ``fun``'s there.
    ``exact``: the model's stable criteria where it has an exact limit
    (:class:`LimitCriteria`), minimized instead of ``fun``: the marginal one roughly
    (:func:`_rough_xtol`), then polished
    on the exact limit (:func:`.limit_polish.exact_polish`), whose criterion is then the
    record's objective."""
    x0 = np.asarray(x0, dtype=float)
    # kept for the ray check (_towards_limit) and the exact polish's value at its start
    max_evals -= len(_RAY) + (0 if exact is None else 1)
    if largest_sd(x0, layout) <= 0 or max_evals <= 0:
        return None
    ray = _Ray(x0, layout)
    top = np.full(len(x0), np.inf) if upper is None else np.asarray(upper, dtype=float)
    lo, hi = lower[ray.free], top[ray.free]
    z0 = np.clip(x0[ray.free], lo, hi)

    def at(z: np.ndarray) -> float:
        return fun(ray.point(z))

    def marginal(z: np.ndarray) -> float:
        assert exact is not None
        return exact.marginal(ray.point(z))

    crit = at if exact is None else marginal  # without the factor's cancellation at 1e4
    top_z = None if upper is None else hi
    try:
        # with the exact polish to follow, the marginal optimization need only get near the
        # optimum: its last steps (xtol 1e-7 on shapes of order 1e2) cost ~1,500 evaluations
        xtol = _rough_xtol(z0, lo, hi) if exact is not None and exact.rough else 1e-7
        record = minimize_theta(crit, z0, lo, max_evals=max_evals, upper=top_z, xtol_abs=xtol)
        if exact is None:  # fresh trust regions: BOBYQA stops short on the ray
            left = max_evals - record.evaluations
            again = polished(crit, replace(record, evaluations=0), lo, top_z, left, 0.1)
            record = replace(again, evaluations=record.evaluations + again.evaluations)
        record = _without_ordinary(crit, record, ray, layout, lo, hi, upper is None, max_evals)
        if exact is not None:
            record = _exact_polished(exact, record, ray, lo, top_z, max_evals)
    except np.linalg.LinAlgError:
        return None
    if not math.isfinite(record.objective):
        return None
    x = ray.point(record.theta)
    ok, spent = _towards_limit(
        fun if exact is None else exact.marginal, ray, record.theta, record.objective
    )
    return replace(
        record,
        theta=x,
        theta_start=x0,
        evaluations=record.evaluations + spent,
        converged=record.converged and ok,
        start=LIMIT_START,
    )


def _exact_polished(
    exact: LimitCriteria,
    record: OptimizerRecord,
    ray: _Ray,
    lo: np.ndarray,
    hi: np.ndarray | None,
    max_evals: int,
) -> OptimizerRecord:
    """``record`` (of the ray's free entries z) polished on the exact limit within what is left
    of ``max_evals``, over the entries that it reads (``exact.size``; the others held)."""
    z0 = np.asarray(record.theta, dtype=float)
    size = len(ray.free) if exact.size is None else exact.size
    read = np.flatnonzero(ray.free)[: len(z0)] < size

    def on_ray(w: np.ndarray) -> float:
        z = z0.copy()
        z[read] = w
        return exact.exact(ray.point(z))

    top = None if hi is None else hi[read]
    left = max_evals - record.evaluations
    done = exact_polish(on_ray, replace(record, theta=z0[read]), lo[read], top, left)
    z = z0.copy()
    z[read] = done.theta
    return replace(done, theta=z)


def _rough_xtol(z0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """xtol of the rough stage: :data:`_ROUGH` × the largest |z0| (the shape's scale), but
    :data:`_ROUGH` × the room of an entry bounded on both sides (a correlation near ±1)."""
    boxed = np.isfinite(lo) & np.isfinite(hi)
    scale = np.where(boxed, room(z0, lo, hi), float(np.max(np.abs(z0))))
    return np.maximum(1e-7, _ROUGH * scale)


def _without_ordinary(
    at: Objective,
    record: OptimizerRecord,
    ray: _Ray,
    layout: ThetaLayout,
    lo: np.ndarray,
    hi: np.ndarray,
    unbounded: bool,
    max_evals: int,
) -> OptimizerRecord:
    """The limit's optimum re-polished from the ordinary terms' θ set to 0, when lower.

    At the limit an ordinary term's variance is small against the structured term's and its
    optimum is often 0 (``(1 | Subject) + ar1(0 + occf | Subject)``: the limit is nlme's
    ``lme(~1|Subject, corAR1)``, whose intercept variance is 0); the criterion is quadratic in θ
    there, so BOBYQA stops with θ well away from 0 (ℓ 1e-6 to 1e-5 short)."""
    ordinary = np.zeros(len(ray.free), dtype=bool)
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        if term.structure is None:
            ordinary[off : off + term.npar] = True
    ordinary = ordinary[ray.free]
    left = max_evals - record.evaluations
    if not np.any(ordinary & (record.theta != 0)) or left <= 0:
        return record
    z0 = np.where(ordinary, 0.0, record.theta)
    trial = minimize_theta(
        at, z0, lo, max_evals=left, upper=None if unbounded else hi, step_scale=0.1
    )
    total = record.evaluations + trial.evaluations
    if trial.objective < record.objective:
        return replace(trial, evaluations=total)
    return replace(record, evaluations=total)


def _towards_limit(fun: Objective, ray: _Ray, z: np.ndarray, value: float) -> tuple[bool, int]:
    """Whether the criterion at z is no higher at the limit than nearer the interior (at
    :data:`_RAY` fractions of :data:`LIMIT_SD`): the supremum is at σ = 0, not inside."""
    tol = 1e-9 * max(1.0, abs(value))
    values = []
    for frac in _RAY:
        try:
            values.append(fun(ray.point(z, frac * LIMIT_SD)))
        except np.linalg.LinAlgError:
            values.append(math.inf)
    ok = all(math.isfinite(v) and v >= value - tol for v in values)
    return ok and values[0] >= values[1] - tol, len(_RAY)


def _better(trial: OptimizerRecord | None, best: OptimizerRecord) -> bool:
    return (
        trial is not None
        and trial.converged
        and math.isfinite(trial.objective)
        and trial.objective < best.objective - RESTART_GAIN
    )


def settle(
    best: OptimizerRecord,
    fun: Objective,
    layout: ThetaLayout,
    lower: np.ndarray,
    upper: np.ndarray | None,
    max_evals: int,
    exact: LimitCriteria | None = None,
) -> OptimizerRecord:
    """``best`` moved to its σ → 0 limit when a structured relative sd exceeds
    :data:`TRIAL_SD` and the limit is lower (:func:`limit`); the evaluations of the trial are
    counted either way. A record already at the limit (:func:`at_limit`) is returned as it is."""
    if at_limit(best.theta, layout) or largest_sd(best.theta, layout) <= TRIAL_SD:
        return best
    trial = limit(fun, best.theta, layout, lower, upper, max_evals, exact)
    if trial is None:
        return best
    total = best.evaluations + trial.evaluations
    if _better(trial, best):
        return replace(trial, evaluations=total, seconds=best.seconds + trial.seconds)
    return replace(best, evaluations=total)


def capped(record: OptimizerRecord, evaluations: int, max_evals: int) -> OptimizerRecord:
    """``record`` marked unconverged when the fit's evaluations over all its starts and
    restarts reached ``max_evals`` (each optimization is capped by the budget left, so the
    total stays near it): the caller warns (ConvergenceWarning)."""
    if evaluations < max_evals or not record.converged:
        return record
    return replace(
        record,
        converged=False,
        message=f"evaluation limit reached: {evaluations} evaluations over all starts and "
        f"restarts (max_evals={max_evals}); the best point found is reported",
    )
