"""Fit a mixed model (or a GLS model, without random effects) with a residual structure.

θ (random effects, lme4's layout) and φ (the structure, :mod:`.correlation` and
:mod:`.variance`) are optimized jointly by BOBYQA (:func:`..optimize.minimize_theta`; θ's
diagonals bounded below by 0, φ unconstrained), σ² profiled. Start: φ from the structure (white
noise, equal variances), θ from the moment estimates on the rows whitened at that φ. Further
starts (``starts``) are tried and the lowest criterion kept (ARMA's cancellation ridge, boundary
optima). The optimizer evaluates the criterion through the fast path where the structure has one
(:mod:`.patterns`); the estimates, the factor and the objective returned come from the rows
whitened at φ̂ (the two agree to rounding). Below :data:`~..convergence.MAX_NOBS` rows the
optimum gets lme4's derivative check (:func:`~..convergence.check_convergence` over x = (θ, φ),
as ordinary fits): a failure sets the record's ``converged`` to False with the check's message.

GLS fits (no θ) whose structure has an analytic gradient (unstructured, Toeplitz,
ante-dependence: :mod:`.gradient`) are optimized by L-BFGS-B with it instead (BOBYQA the
fallback), and their derivative check uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

import numpy as np

from .. import crawl, vanishing
from ..limit_gls import _spanning
from ..optimize import OptimizerRecord, minimize_theta
from ..reterm import ReTerm, ThetaLayout
from ..start import SCALAR_FLOOR, moment_start
from ..threads import single_threaded
from . import reference, restart, vanished
from .attained import attained
from .budget import at_start, capped, staged, unfinished
from .budget import exhausted as budget_spent
from .criterion import ResidualCriterion
from .cs_limit import cs_limit, limit_refusal
from .cs_ridge import ridge_polish
from .dense import DenseResidual, residual_limit_criteria
from .edge import edge_check
from .edge_fit import START_U, inside
from .exact import check_exact
from .exact_cs import check_exact_cs
from .gradient_fit import gradient_criterion, minimize_with_gradient
from .limit import interior_retry, limit_fit, limit_message
from .multistart import restarted
from .nested import NESTED_START, nested_bound
from .partial import partial_retry
from .polish import POLISH_STEP
from .polish import derivative_check as _derivative_check
from .polish import polish as _polish
from .probe import probed, rewatched
from .relabel import edge_alone, relabelled
from .rereference import reference_tail, reference_vanished
from .result import ResidualFit, carried
from .structure import ResidualModel
from .variance import IdentPart

__all__ = ["ResidualFit", "fit_residual"]


def fit_residual(
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    model: ResidualModel,
    reml: bool = True,
    *,
    phi_start: np.ndarray | None = None,
    theta_start: np.ndarray | None = None,
    starts: Sequence[np.ndarray] = (),
    max_evals: int = 100_000,
    progress: Callable[[int, float, float], None] | None = None,
    gradient: bool = True,
    names: Sequence[str] = (),
    relabel: bool = True,
) -> ResidualFit:
    """Fit by REML or ML, optimizing (θ, φ) jointly with σ² profiled.

    Parameters
    ----------
    terms : list of ReTerm
        Z not weighted; may be empty (GLS). Every residual subject must be nested in each term's
        grouping (see :func:`.criterion.check_nested`; checked by the caller, who knows the
        names).
    X : ndarray, shape (n, p)
        Full column rank.
    y : ndarray, shape (n,)
    model : ResidualModel
        Bound to the same n rows.
    reml : bool
    phi_start, theta_start : ndarray, optional
        Default: the structure's start and the moment estimates at it.
    starts : sequence of ndarray
        Further starts x = (θ, φ); the lowest criterion wins. Without ``phi_start``, the
        structure's own further starts (:meth:`.ResidualModel.other_starts`: a spatial range far
        out on its ridge) are tried too, θ from the moment estimates at each.
    max_evals : int
    progress : callable, optional
        (evaluations, value, best value) after each evaluation.
    gradient : bool
        Use L-BFGS-B with the analytic gradient where there is one (GLS, a structure of
        :mod:`.gradient`); False: BOBYQA always.
    names : sequence of str
        The random-effects terms' names (their grouping), for the σ → 0 limit's warning
        (:mod:`..vanishing`).
    relabel : bool
        When the VarIdent reference stratum's sd ends small, fit again with the largest stratum
        as the reference and keep the better (:mod:`.relabel`); False inside that refit.

    Returns
    -------
    ResidualFit

    Raises
    ------
    MixedFitError
        A VarIdent stratum's rows or CS's subject means are fitted exactly (no maximum).
    """
    check_exact(terms, X, y, model, reml)
    check_exact_cs(terms, X, y, model, reml)

    def fit_one(
        other: ResidualModel, x0: np.ndarray, budget: int, watch: bool = False
    ) -> ResidualFit:
        n = len(x0) - other.size  # another VarIdent reference (rereference.py, probe.py)
        return staged(_fit_one(
            terms,
            X,
            y,
            other,
            reml,
            phi_start=x0[n:],
            theta_start=x0[:n],
            max_evals=budget,
            progress=progress,
            gradient=False,
            names=names,
            watch=watch,
        ), budget)  # fmt: skip

    if phi_start is not None:  # a refit from an edge fit starts inside (edge_fit.py)
        phi_start = inside(model, phi_start, START_U)
    try:
        fit = _fit_one(
            terms, X, y, model, reml, phi_start=phi_start, theta_start=theta_start,
            starts=starts, max_evals=max_evals, progress=progress, gradient=gradient,
            names=names, watch=True,
        )  # fmt: skip
    except np.linalg.LinAlgError as error:  # ML CS run off to its limit: refused (cs_limit.py)
        raise limit_refusal(error, terms, X, model, reml) from None
    except reference.Moved as early:  # strata's variances running off to 0: probe.py
        fit = probed(
            early.record, early.strata, model, terms, X, y, max_evals, fit_one, names, reml
        )
    else:
        fit = reference_vanished(fit, terms, X, y, max_evals, fit_one, names)
    # an AR(1) residual beside a structured term: its mirrored and φ = ±0.5 modes (multistart.py)
    first = fit
    fit = restarted(fit, terms, fit_one, max_evals, _dense(terms, X, y, model, reml))
    restarts = fit  # its near-edge optimum (multistart.py) is edge_check's to judge
    if fit.objective < first.objective:  # a restart's reference stratum running off (probe.py)
        fit = rewatched(fit, terms, X, y, max_evals, fit_one, names)
    # the reference's tail crawled and stopped on at a moderate ratio (rereference.py, rv20)
    fit = reference_tail(fit, terms, X, y, max_evals, fit_one, names)
    moved = limit_fit(fit, terms, X, y, max_evals, names)  # the exact σ → 0 limit (limit.py)
    fit = interior_retry(moved, fit, terms, fit_one, max_evals)
    fit = partial_retry(fit, terms, X, y, fit_one, max_evals, names)  # one stratum's σ → 0
    # whichever fit the stages above ended at (each carries it too; rv19 MEDIUM-1)
    fit = carried(fit, restarts)
    alone = edge_alone(fit)  # its verdict before the edge check (relabel.py)
    fit = edge_check(fit, terms, X, y, max_evals, fit_one)  # an AR(1) residual at φ → ±1
    if fit.near_edge is not None:  # a restart's optimum near an edge, judged by edge_check
        fit = replace(fit, near_edge=None)
    nested = partial(fit_residual, terms, X, y, reml=reml, gradient=gradient, names=names)
    fit = nested_bound(fit, fit_one, nested, max_evals)  # below the nested model (nested.py)
    if fit.record.start == NESTED_START:  # its refit won: an edge it ends at (rv27 LOW-7)
        fit = replace(edge_check(fit, terms, X, y, max_evals, fit_one), near_edge=None)
    fit = attained(fit, terms, X, y)  # the reported criterion, recomputed at the estimates
    fit = unfinished(fit, restarts.unfinished)  # the restarts' search cut by max_evals
    fit = budget_spent(fit, max_evals)  # any stage cut by the budget left (budget.py)
    if not relabel or fit.record.evaluations >= max_evals:  # no budget left for a refit (rv23)
        return cs_limit(fit, terms, X, y) if relabel else fit  # ML CS: no maximum?

    def refit(other: ResidualModel) -> ResidualFit:  # the whole fit, another reference
        budget = max_evals - fit.record.evaluations  # max_evals caps both fits' total
        return fit_residual(
            terms, X, y, other, reml, max_evals=budget, gradient=gradient, names=names,
            relabel=False,
        )  # fmt: skip

    # labels must not change ℓ (rv21); the refit's cut quotes the user's max_evals (rv23 LOW-5)
    fit = budget_spent(relabelled(fit, terms, X, y, refit, names, max_evals, alone), max_evals)
    return cs_limit(fit, terms, X, y)  # ML CS: a limit above the fit (no maximum: cs_limit.py)


def _dense(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, model: ResidualModel, reml: bool
) -> Callable[[ResidualFit], float] | None:
    """−2ℓ at a fit's (θ, φ) by the dense blocks (:class:`.dense.DenseResidual`, built at its
    first use) beside a spanning term, for :func:`.multistart.restarted`'s comparisons near an
    edge; None without one."""
    layout = ThetaLayout(tuple(terms))
    span = _spanning(layout) if terms else None
    if span is None or X.shape[0] <= X.shape[1]:
        return None
    built: list[DenseResidual] = []

    def judge(fit: ResidualFit) -> float:
        if not built:
            built.append(DenseResidual(layout, X, y, span, model))
        return built[0].objective(np.concatenate([fit.theta, fit.phi]), reml)

    return judge


def _fit_one(
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    model: ResidualModel,
    reml: bool = True,
    *,
    phi_start: np.ndarray | None = None,
    theta_start: np.ndarray | None = None,
    starts: Sequence[np.ndarray] = (),
    max_evals: int = 100_000,
    progress: Callable[[int, float, float], None] | None = None,
    gradient: bool = True,
    names: Sequence[str] = (),
    watch: bool = False,
) -> ResidualFit:
    """One fit in the given parameterization (:func:`fit_residual`); with ``watch``, the first
    optimizations raise :class:`.reference.Moved` when strata's variances run off to 0
    (:class:`.reference.Watch`, :mod:`.probe`)."""
    with single_threaded():  # small calls throughout: threads cost more than they gain
        crit = ResidualCriterion(terms, X, y, model)
        phi0 = model.start() if phi_start is None else np.asarray(phi_start, dtype=float)
        if theta_start is None:
            rows = crit.start_rows(phi0) if crit.n_theta else None
            theta0 = np.zeros(0) if rows is None else moment_start(*rows, SCALAR_FLOOR)
        else:
            theta0 = np.asarray(theta_start, dtype=float)
        lower = crit.lower()
        bounds = crit.upper()  # structured terms' correlation box, a spatial range
        upper = bounds if np.isfinite(bounds).any() else None
        tried = [np.concatenate([theta0, phi0]), *starts]
        if phi_start is None:
            tried += [_start_at(crit, phi) for phi in model.other_starts()]
        best: OptimizerRecord | None = None
        grad = gradient_criterion(crit, reml) if gradient else None  # L-BFGS-B (GLS)
        # the model's criterion without the whitened factor's cancellation and its exact σ → 0
        # limit, where a spanning term has one (dense.py): for the crawl's limit trials
        spent = [0]  # every evaluation of the fit: max_evals caps their total
        exact = (
            residual_limit_criteria(terms, X, y, model, reml, spent) if crit.structured else None
        )

        watcher = reference.Watch(model if watch else ResidualModel(0, None), crit.layout)

        def fun(x: np.ndarray) -> float:
            spent[0] += 1
            value = crit.objective(x, reml)
            watcher.see(x, value)  # raises reference.Moved (variances running off: probe.py)
            return value

        def left() -> int:
            return max(1, max_evals - spent[0])

        def budget_left() -> bool:
            return spent[0] < max_evals

        def optimize(x0: np.ndarray | None, evals: int) -> OptimizerRecord:
            assert x0 is not None
            return minimize_theta(fun, x0, lower, max_evals=evals, progress=progress, upper=upper)

        def again(x0: np.ndarray, evals: int) -> OptimizerRecord:  # the restarts: no progress
            # watched as the first optimization: a restart onto the structured term's ridge
            # (ρ → 1) goes on in unbounded coordinates instead of crawling (crawl.py)
            def bobyqa(start: np.ndarray | None, budget: int) -> OptimizerRecord:
                assert start is not None
                return _bobyqa(1.0)(fun, start, lower, upper, budget)

            return crawl.watched(bobyqa, fun, x0, crit.layout, lower, upper, evals, exact)

        def polishing(x0: np.ndarray, evals: int) -> OptimizerRecord:
            return _bobyqa(POLISH_STEP)(fun, x0, lower, upper, evals)

        def polish(record: OptimizerRecord) -> OptimizerRecord:
            return _polish(fun, record, lower, left(), upper, polishing)

        for i, x0 in enumerate(tried):
            x0 = np.asarray(x0, dtype=float)
            if not budget_left():  # no start runs past max_evals (budget.py; rv23 LOW-3)
                best = best or at_start(crit, x0, reml)
                break
            record = (
                crawl.watched(optimize, fun, x0, crit.layout, lower, upper, left(), exact)
                if grad is None
                else minimize_with_gradient(grad, fun, x0, lower, left(), progress)
            )
            if i:
                record = replace(record, start=f"start {i + 1}")
            if best is None or record.objective < best.objective - 1e-9:
                best = record
        assert best is not None
        best = _ridge(crit, best, reml)
        # once max_evals is spent no stage runs (each would take at least one evaluation)
        if grad is None and not vanishing.at_limit(best.theta, crit.layout) and budget_left():
            # the gradient path restarts itself (gradient_fit.GRADIENT_ROUNDS)
            best = _polish(fun, best, lower, left(), upper, polishing)
            best = restart.off_the_face(crit, fun, best, lower, left(), upper, polish, again)
            best = restart.improve(crit, fun, best, lower, upper, left(), polish, again)
        best = ridge_polish(crit, fun, best, lower, upper, max_evals - spent[0])  # CS's limit
        if crit.n_theta and crit.layout.structured and budget_left():
            best = vanishing.settle(best, fun, crit.layout, lower, upper, left(), exact)
        best = capped(best, spent[0], max_evals)
        exhausted = not budget_left()  # then no boundary test either (its one evaluation)
        none = (best, np.zeros(best.theta.size, dtype=bool))
        best, vanished_mask = none if exhausted else vanished.settle(fun, best, model, crit.n_theta)
        check = None
        # no derivative check at θ → ∞, nor at a vanished residual variance (its noise), nor
        # with ratios held at the probe's floor (probe.py: the same noise), nor where max_evals
        # stopped the fit (the check's ~2n² evaluations would overrun it, its verdict the cap's)
        held = isinstance(model.variance, IdentPart) and bool(model.variance.fixed)
        skip = exhausted or vanished_mask.any() or held
        if not (vanishing.at_limit(best.theta, crit.layout) or skip):
            room = max_evals - max(spent[0], best.evaluations)  # none past it (budget.py)
            # the vanished rule again where the check moved the point (rv22 H1)
            checked = _derivative_check(crit, best, reml, model.n, grad, room)
            best, check, vanished_mask = vanished.rechecked(fun, best, checked, model, crit.n_theta)
        theta, phi = crit.split(best.theta)
        factor = crit.factor_at(phi)  # the final results: rows whitened at φ̂
        solution = crit.solution(best.theta, factor, reml)  # QR at tiny ratios
        objective = crit.reported(best.theta, factor, reml)  # QR at tiny ratios
    if not math.isfinite(objective):
        objective = best.objective
    best = replace(best, objective=objective)  # the record states the reported criterion
    boundary = model.at_bound(phi)
    boundary = vanished.joined(boundary, model, crit.n_theta, vanished_mask, phi)
    boundary = limit_message(best.theta, crit.layout, names, model) or boundary
    gone = vanished_mask if vanished_mask.any() else None
    return ResidualFit(
        theta, phi, objective, reml, best, solution, factor, model, check, boundary, vanished=gone
    )


def _bobyqa(step_scale: float) -> vanished.Optimize:
    """BOBYQA (no progress callback) with the first step scaled by ``step_scale``."""

    def run(
        f: Callable[[np.ndarray], float],
        x0: np.ndarray,
        low: np.ndarray,
        high: np.ndarray | None,
        n: int,
    ) -> OptimizerRecord:
        return minimize_theta(f, x0, low, max_evals=n, upper=high, step_scale=step_scale)

    return run


def _ridge(crit: ResidualCriterion, best: OptimizerRecord, reml: bool) -> OptimizerRecord:
    """``best`` moved along the structure's ridge to its limit (:meth:`.ResidualModel.
    ridge_point`, θ rescaled to keep G) when the criterion there is no worse (1e-9 relative): a
    flat ridge ends at its limit, where :meth:`.ResidualModel.at_bound` sees it."""
    theta, phi = crit.split(best.theta)
    moved = crit.model.ridge_point(phi)
    if moved is None:
        return best
    x = np.concatenate([theta / math.sqrt(moved[1]), moved[0]])
    try:
        value = crit.objective(x, reml)
    except np.linalg.LinAlgError:
        return best
    if not value <= best.objective + 1e-9 * max(1.0, abs(best.objective)):
        return best
    return replace(best, theta=x, objective=value, evaluations=best.evaluations + 1)


def _start_at(crit: ResidualCriterion, phi: np.ndarray) -> np.ndarray:
    """x = (θ, φ) with θ the moment estimates on the rows whitened at φ (zeros if they cannot
    be computed there)."""
    if not crit.n_theta:
        return np.asarray(phi, dtype=float)
    try:
        theta = moment_start(*crit.start_rows(phi), SCALAR_FLOOR)
    except np.linalg.LinAlgError:
        theta = np.zeros(crit.n_theta)
    return np.concatenate([theta, phi])
