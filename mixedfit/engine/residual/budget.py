"""The shared evaluation budget of a residual-covariance fit (``max_evals``, issue 12).

Every stage of :func:`.fit.fit_residual` (the first fit, the restarts, the reference's tail, the
limits, the partial limits, the edges, the relabelled refit) draws on one budget: its
``max_evals`` caps the evaluations of all of them together. A stage given nothing left does not
run (:func:`at_start`: a fit given no evaluations is the fit at its start, unconverged), and a
fit whose stages spent the budget is reported unconverged with a ConvergenceWarning that quotes
the user's ``max_evals`` (:func:`exhausted`). Review rv23: toep ML 3 (order ab) at
max_evals = 20,000 returned ℓ 0.7311759, 0.008 below the optimum 0.7391635, converged and
without a warning (the partial limits' refit was cut by the budget left, silently); LOW-3: a
one-evaluation refit ran at 20,001; LOW-5: the refit's cut quoted its own leftover budget.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np

from ..optimize import OptimizerRecord
from ..vanishing import capped as capped_total
from .criterion import ResidualCriterion
from .result import ResidualFit

__all__ = [
    "BY_EDGES",
    "EDGES",
    "EXHAUSTED",
    "at_start",
    "capped",
    "exhausted",
    "noted",
    "staged",
    "starved",
    "unfinished",
]

EXHAUSTED = "maximum number of evaluations reached"
"""The optimizer's own message at its budget (:mod:`..optimize`), which starts
:func:`exhausted`'s."""

_QUOTED = re.compile(r"max_evals=\d+")
_COUNTED = re.compile(r"\d+ evaluations over all starts and restarts")
_OWN = "of which the record counts"
"""In :func:`capped`'s message (two counts: not restated, the total is said after it)."""


def exhausted(fit: ResidualFit, max_evals: int) -> ResidualFit:
    """``fit`` unconverged when its evaluations over all stages reached ``max_evals`` (a stage
    stopped because the shared budget ran out: the best point found is reported, and a higher
    optimum may be left unfound), its message saying so; a cap message of a stage quoting
    another budget (the relabelled refit's leftover) restated with the fit's total and the
    user's ``max_evals``; ``fit`` as it is below the budget.

    Parameters
    ----------
    fit : ResidualFit
    max_evals : int
        The budget the caller was given (the user's, at the outermost call).

    Returns
    -------
    ResidualFit
    """
    record = fit.record
    total = record.evaluations
    if total < max_evals:
        return fit
    if not record.converged and "max_evals" in record.message and _OWN not in record.message:
        text = _QUOTED.sub(f"max_evals={max_evals}", record.message)
        text = _COUNTED.sub(f"{total} evaluations over all starts and restarts", text)
        if text == record.message:
            return fit
        return replace(fit, record=replace(record, message=text))
    said = (
        f"{EXHAUSTED}: the fit's stages spent {total} evaluations in all (max_evals="
        f"{max_evals}), the last of them cut by the budget; the best point found is reported "
        "and a higher optimum may be left unfound; raise max_evals"
    )
    keep = not record.converged and record.message != EXHAUSTED  # (not said twice)
    text = f"{record.message}; {said}" if keep else said
    return replace(fit, record=replace(record, converged=False, message=text))


def capped(record: OptimizerRecord, spent: int, max_evals: int) -> OptimizerRecord:
    """``record`` unconverged when the fit's evaluations (``spent``: every evaluation of the
    criterion, over all starts and restarts) reached ``max_evals``
    (:func:`..vanishing.capped`), its message saying which count is which where the record's
    differs (review rv26 LOW-1: "62 evaluations over all starts and restarts (max_evals=60)"
    beside a record of 58). The record counts the optimizers' evaluations on the reported fit's
    path (its optimizations and the stages after it); the total adds the other starts' and each
    optimization's evaluations of its start and, at its end, of its optimum (the caller's state
    there), which the optimizer's own budget, what was left of max_evals, does not bound: the
    total can pass max_evals by those of the last optimization."""
    out = capped_total(record, spent, max_evals)
    if out is record or spent == record.evaluations:
        return out
    said = (
        f"evaluation limit reached: {spent} evaluations over all starts and restarts "
        f"(max_evals={max_evals}), {_OWN} {record.evaluations}, the "
        "optimizers' evaluations on the reported fit's path (the others are those of the other "
        "starts and each optimization's evaluations of its start and of its optimum, which the "
        "optimizer's budget, what is left of max_evals, does not include); the best point found "
        "is reported"
    )
    return replace(out, message=said)


_UNCHECKED = re.compile(
    r"and max_evals left (\d+), so convergence is not verified; raise max_evals"
)


def staged(fit: ResidualFit, budget: int) -> ResidualFit:
    """``fit``, a stage's sub-fit given ``budget`` evaluations (a restart's, a grid start's, an
    edge's own cap, or what was left of max_evals), with the derivative check's "not run"
    message (:data:`.polish.NOT_CHECKED`) restated: its "raise max_evals" was wrong where the
    stage's own cap was the limit (review rv27 LOW-5); where the fit's max_evals is spent,
    :func:`exhausted` says so and to raise it."""
    record = fit.record
    if record.converged or not _UNCHECKED.search(record.message):
        return fit
    text = _UNCHECKED.sub(
        f"and this stage's budget ({budget} evaluations: a stage's own cap inside the fit, or "
        r"what was left of max_evals) left \1, so convergence is not verified",
        record.message,
    )
    return replace(fit, record=replace(record, message=text))


def unfinished(fit: ResidualFit, message: str | None) -> ResidualFit:
    """``fit`` with its record unconverged and ``message`` (the restarts' search cut by
    max_evals: :func:`.multistart.restarted`) added, for a ConvergenceWarning; as it is without
    one or where its message says so already."""
    record = fit.record
    if message is None or "max_evals" in record.message:
        return fit
    text = message if record.converged else f"{record.message}; {message}"
    return replace(fit, record=replace(record, converged=False, message=text))


def at_start(crit: ResidualCriterion, x0: np.ndarray, reml: bool) -> OptimizerRecord:
    """The record of an optimization given no evaluations: at its start x0 (its criterion not
    counted, as :func:`..optimize.minimize_theta`'s check of its start; inf where it cannot be
    computed), unconverged."""
    x0 = np.asarray(x0, dtype=float)
    try:
        objective = float(crit.objective(x0, reml))
    except (np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError):
        objective = math.inf
    return OptimizerRecord(
        method="none (no evaluations left)",
        evaluations=0,
        objective=objective if math.isfinite(objective) else math.inf,
        theta=x0,
        theta_start=x0,
        gradient=None,
        converged=False,
        message=EXHAUSTED,
        seconds=0.0,
    )


EDGES = ("the check of the AR(1) residual correlation's edges φ = ±1", "an edge")
"""What :func:`starved` names for a plain AR(1)'s edge check (:func:`.edge.edge_check`): the
check, and where a higher likelihood may be left."""

BY_EDGES = ("the check of the by= groups' AR(1) edges φ = ±1", "a group's edge")
""":data:`EDGES` for the ``by=`` groups' edge check (:func:`.by_edge.by_edge_check`)."""


def noted(
    cut: list[str], what: str, given: int, design: int, record: OptimizerRecord | None
) -> None:
    """Adds ``what`` to ``cut`` where the fit's ``max_evals`` skipped an edge optimization
    (``given`` ≤ 0: ``record`` None) or cut it short (``given`` below its own budget ``design``
    and ``record`` unconverged)."""
    if given >= design:
        return
    if record is None or given <= 0 or not record.converged:
        cut.append(what)


def starved(
    fit: ResidualFit, cut: list[str], max_evals: int, check: tuple[str, str] = BY_EDGES
) -> ResidualFit:
    """``fit`` unconverged with a message saying which of an AR(1) edge check's optimizations
    the budget skipped or cut (``cut``, :func:`noted`; ``check``: :data:`EDGES` or
    :data:`BY_EDGES`) and suggesting a larger ``max_evals``, as :func:`exhausted` says of the
    other stages; ``fit`` as it is where none was. Never "converged" with an edge unchecked
    (lane h3ws for ``by=``; lane lows29 for the plain AR(1): its check returned silently)."""
    if not cut:
        return fit
    shown = ", ".join(dict.fromkeys(cut))
    text = (
        f"{check[0]} was cut by the budget ({shown} not run or unfinished within the "
        f"evaluations left, {fit.record.evaluations} evaluations in all, max_evals={max_evals}): "
        f"a higher likelihood at {check[1]} may be left unfound; raise max_evals"
    )
    record = fit.record
    message = text if record.converged or not record.message else f"{record.message}; {text}"
    return replace(fit, record=replace(record, converged=False, message=message))
