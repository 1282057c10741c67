"""The early limit trial of VarIdent strata running off to 0, by dense blocks (issue 12).

``y ~ stratum + x + (1 + t | subject)`` with ``residual=mf.AR1("t", "subject") &
mf.VarIdent("stratum")`` and a stratum B observed twice per subject with a tiny sd: a random
intercept and slope per subject can carry both B rows, so the criterion stays bounded as B's
ratio δ_B → 0 and its supremum may be there (120 subjects × 8 times: R's dense V-form
maximum at δ_B = 0, ℓ −766.1075519, ``tests/reference/varident_dense_limit/``). The random slope's
variance there is tiny (its relative sd 2e-3), so the criterion is smooth in δ_B² only on the
scale of that variance: it still moves by ~6e6 δ_B² (6.3e-3 at δ_B = 1e-4, 5.7e-4 at 1e-5 and
5.6e-5 at 1e-6 on a criterion of 1532; the probe's floor is 2e-4), and BOBYQA on the whitened
rows crawled η_B = log δ_B for 70,000–93,000 evaluations to 3e-4 to 7e-4 below the limit's ℓ.

:func:`trial` evaluates the limit model by a Cholesky factor of each group's block of
V / σ² = Z Λ Λ' Z' + Λ_R(φ) with the candidates' δ = 0 (:class:`.dense.DenseResidual`, no
whitening by Λ_R; V stays positive definite where the random effects span those rows) and
optimizes it from the point where the strata were seen running off. When it is no higher than
that point, the probe (:mod:`.probe`) holds the candidates at :data:`DENSE_FLOOR` (not
:data:`.probe.PROBE_FLOOR`) from the limit's optimum, its tests unchanged (a stratum whose
criterion falls away from 0 is released, an interior optimum); otherwise the probe runs as
before. Only with one random-effects term (the residual subjects nested in it), blocks of at
most :data:`MAX_BLOCK` rows and candidates other than the reference stratum; otherwise None
(the probe as before).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..optimize import OptimizerRecord, minimize_theta
from ..reterm import ReTerm, ThetaLayout
from . import tiny_interior
from .criterion import ResidualCriterion
from .dense import DenseResidual
from .structure import ResidualModel
from .variance import IdentPart

__all__ = ["DENSE_EVALS", "DENSE_FLOOR", "MAX_BLOCK", "START_SD", "Trial", "trial"]

DENSE_FLOOR = 1e-6
"""The smallest held sd relative to the largest: the criterion's distance to the limit, ~6e6 δ²
in the example above, is 5.6e-5 there (4e-8 relative); the whitened criterion is evaluated by
QR with one random-effects term (:mod:`.orthogonal`: it agrees with the dense one to 1e-10
there)."""
LEVELS = (2e-4, 1e-5, DENSE_FLOOR)
"""The held sds tried, the probe's :data:`.probe.PROBE_FLOOR` first: the first whose dense
criterion at the limit's optimum is within :data:`GAP` of the limit's is taken; at the probe's
own floor (``at_limit`` False), the probe runs as before (from the point where the strata ran
off)."""
FAR = 20.0
"""The probe's own floor is kept unless its criterion is this many :data:`GAP` above the
limit's (8e-6 relative in the example above, where the distance is ~linear in δ: 5.6e-5 at
1e-6). A random intercept carrying one row per subject (``tests/test_varident_tiny_ratio.py``)
reached its supremum to 3e-9 relative from the probe's floor, to 6e-8 from the limit's optimum
held at 1e-6."""
GAP = 1e-7
"""Relative distance of the held model's criterion to the limit's that is accepted (the
smallest level is taken if none is within it)."""
DENSE_EVALS = 10_000
"""The most evaluations of the limit's dense optimization."""
START_SD = 1e-2
"""A relative sd at 0 where the strata ran off starts the limit's optimization here."""
RESTART_STEP = 0.1
"""The first step of the limit's optimizations, relative to BOBYQA's default."""
RESTARTS = 3
"""The most restarts of the limit's optimization."""
MAX_BLOCK = 64
"""The largest group (rows) whose dense block is factored."""


@dataclass(frozen=True)
class Trial:
    """The limit's dense optimum: ``at_limit`` whether it is no higher than the point where the
    strata ran off and the probe's floor too far from it (then held at ``level``); ``x`` its
    point in the model's own parameterization (x = (θ, φ), the candidates' η at log ``level``
    relative to the largest stratum; that point when not at the limit); ``objective`` the
    limit's criterion; ``evaluations`` spent. With ``interior``, ``x`` and ``objective`` are
    the free model's optimum below the limit's (:mod:`.tiny_interior`)."""

    at_limit: bool
    x: np.ndarray
    objective: float
    evaluations: int
    level: float
    interior: bool = False


def trial(
    record: OptimizerRecord,
    cand: list[int],
    model: ResidualModel,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    reml: bool,
    budget: int,
) -> Trial | None:
    """The limit optimized by dense blocks from ``record``'s point (see the module docstring);
    None where the trial does not apply or the budget is too small."""
    part = model.variance
    if len(terms) != 1 or not isinstance(part, IdentPart) or part.fixed or model.size < 1:
        return None
    if part.reference in cand or budget < 4 * len(record.theta) + 10:
        return None
    layout = ThetaLayout(tuple(terms))
    refs = terms[0].refs
    if np.bincount(refs).max() > MAX_BLOCK:
        return None
    n_theta = layout.size
    nc = model.split(np.asarray(record.theta)[n_theta:])[0].size  # the correlation's φ first
    cols = [n_theta + nc + part.free.index(g) for g in cand]  # the candidates' η in x
    keep = np.setdiff1d(np.arange(len(record.theta)), cols)
    crit = ResidualCriterion(terms, X, y, model)
    lower = crit.lower()
    limit = part.with_reference(part.reference, {g: 0.0 for g in cand})
    limit_model = ResidualModel(model.n, model.subject, model.correlation, limit)
    dense = DenseResidual(layout, X, y, 0, limit_model)
    x0 = np.asarray(record.theta, dtype=float)
    # a random-effects sd at 0 leaves the limit's V singular there: started at START_SD
    inside = np.where((lower == 0.0) & (x0 < START_SD), START_SD, x0)
    try:  # the random effects may not span the candidates' rows: V singular at the limit
        with np.errstate(all="ignore"):
            here = float(dense.objective(inside[keep], reml))
    except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError):
        here = np.nan
    if not np.isfinite(here):
        return None
    free = DenseResidual(layout, X, y, 0, model)
    floor = _floor_gap(free, part, inside, cols, cand, n_theta + nc, reml)
    if floor - here <= FAR * GAP * abs(here):
        # already at the start the probe's floor is as close to the limit as kept below: the
        # probe as before, without the limit's optimization (its cost: sleepstudy ar1 term +
        # VarIdent 2,015 → 3,558 evaluations, tests/test_cov_ar1_varident.py)
        return Trial(False, x0, record.objective, 2, LEVELS[0])
    found = _optimized(lambda z: dense.objective(z, reml), inside[keep], lower[keep], budget)
    if not found.objective <= record.objective:  # the free fit is already higher: interior
        return Trial(False, x0, record.objective, found.evaluations, LEVELS[0])
    x = np.array(x0)
    x[keep] = found.theta
    deltas = part.deltas(x[n_theta + nc :])
    largest = float(np.max(np.delete(deltas, cand)))
    tol = GAP * max(1.0, abs(found.objective))
    spent = found.evaluations
    for level in LEVELS:  # the probe's own floor first: kept where it is close enough
        x[cols] = np.log(level * largest)
        spent += 1
        gap = free.objective(x, reml) - found.objective
        if level == LEVELS[0] and gap < -tol:  # below the limit's optimum: an interior one
            interior = tiny_interior.search(
                crit, reml, x, cols, largest, found.objective, budget - spent
            )
            spent += interior.evaluations
            if interior.x is not None:
                return Trial(False, interior.x, interior.objective, spent, level, interior=True)
        if gap <= (FAR if level == LEVELS[0] else 1.0) * tol:
            break
    if level == LEVELS[0]:
        return Trial(False, x0, record.objective, spent, level)
    return Trial(True, x, found.objective, spent, level)


def _floor_gap(
    free: DenseResidual,
    part: IdentPart,
    x: np.ndarray,
    cols: list[int],
    cand: list[int],
    at: int,
    reml: bool,
) -> float:
    """The free model's dense criterion at ``x`` with the candidate strata ``cand`` (their
    entries ``cols`` of ``x``) held at the probe's floor :data:`LEVELS` [0] relative to the
    largest other stratum (``at``: where the variance function's parameters start in ``x``)."""
    x = np.array(x, dtype=float)
    deltas = part.deltas(x[at:])
    x[cols] = np.log(LEVELS[0] * float(np.max(np.delete(deltas, cand))))
    with np.errstate(all="ignore"):
        return float(free.objective(x, reml))


def _optimized(
    fun: Callable[[np.ndarray], float], x0: np.ndarray, lower: np.ndarray, budget: int
) -> OptimizerRecord:
    """BOBYQA from x0 with its first step scaled by :data:`RESTART_STEP`, restarted so while
    that gains (the criterion is steep in a tiny random-effects sd that carries the vanished
    rows: with the default first step BOBYQA's trust region shrank to its θ tolerance ~14
    log-likelihood units short, 120 subjects above), within min(:data:`DENSE_EVALS`,
    ``budget`` / 2) evaluations."""
    total = max(1, min(DENSE_EVALS, budget // 2))
    found = minimize_theta(fun, x0, lower, max_evals=total, step_scale=RESTART_STEP)
    spent = found.evaluations
    for _ in range(RESTARTS):
        if spent >= total:
            break
        again = minimize_theta(
            fun, found.theta, lower, max_evals=total - spent, step_scale=RESTART_STEP
        )
        spent += again.evaluations
        gained = found.objective - again.objective
        if again.objective < found.objective:
            found = again
        if not gained > 1e-9 * max(1.0, abs(found.objective)):
            break
    return replace(found, evaluations=spent)
