"""Fit a linear mixed model from arrays: weighting, factor, optimization, estimates."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import numpy as np

from . import jit, restart, vanishing
from .centring import CentredOptimum, Centring, centred_theta
from .compiled_fit import compiled_optimum, deferred
from .convergence import MAX_NOBS, ConvergenceCheck, check_convergence
from .early_limit import watched as early_watched
from .factor import BlockedFactor
from .limit_cross_polish import crossed_polish, ray_criteria
from .limit_gls import limit_solution
from .newton import polish_fit
from .optimize import FIT_TOLERANCES, PENALTY, OptimizerRecord, minimize_theta
from .reparam import centre_fixed
from .result import EngineFit, _blas_threads
from .reterm import ReTerm
from .ridge import ridge_tangent
from .skeleton import KernelLease, skeleton_of
from .solution import Solution, solve
from .start import factor_start as _moment_start
from .unbounded import second_opinion, structured_entries

Record = OptimizerRecord
__all__ = ["EngineFit", "criterion_at", "fit_factors", "fit_lmm", "weighted_factor"]


def fit_lmm(
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    reml: bool = True,
    theta_start: np.ndarray | None = None,
    max_evals: int = 100_000,
    optimizer: str = "auto",
    progress: Callable[[int, float, float], None] | None = None,
) -> EngineFit:
    """Fit by REML or ML on the profiled deviance.

    Parameters
    ----------
    terms : list of ReTerm
        Z not weighted; the order fixes the order of θ.
    X : ndarray, shape (n, p)
        Full column rank.
    y : ndarray, shape (n,)
        Response with any offset already subtracted.
    weights : ndarray, shape (n,), optional
        Positive prior weights.
    reml : bool
    theta_start : ndarray, optional
        Defaults to per-term moment estimates (:func:`.start.moment_start`). The optimizer works
        on centred slope columns (:mod:`.centring`), and the estimates are read off them; θ is
        always that of the given columns. A start that cannot be mapped to the centred columns
        (θ of columns that cancel, too inaccurate to map) is replaced by the moment start.
    max_evals : int
        Evaluation limit of the optimizer.
    optimizer : {"auto", "bobyqa", "cobyqa"}
        "auto" is BOBYQA: from the moment start it needs as few evaluations as COBYQA, or fewer,
        without COBYQA's ~2 ms of overhead per evaluation.
    progress : callable, optional
        Called after each evaluation with (evaluations, value, best value).

    Returns
    -------
    EngineFit
    """
    skeleton = skeleton_of(terms, weights)  # a reused design's: only y's part computed
    lease = None  # (and its compiled kernel kept: no allocation per fit)
    if skeleton is not None:
        factor, centring, inner, lease = skeleton.planned(terms, X, y)
    else:
        factor, centring = weighted_factor(terms, X, y, weights), Centring.of(terms)
        inner = None if centring is None else weighted_factor(centring.terms(terms), X, y, weights)
    with lease if lease is not None else contextlib.nullcontext():
        return fit_factors(
            *(factor, centring, inner), reml=reml, theta_start=theta_start, max_evals=max_evals,
            optimizer=optimizer, progress=progress, blups="lazy", _lease=lease,
        )  # fmt: skip


def fit_factors(
    factor: BlockedFactor,
    centring: Centring | None,
    inner: BlockedFactor | None,
    *,
    reml: bool = True,
    theta_start: np.ndarray | None = None,
    max_evals: int = 100_000,
    optimizer: str = "auto",
    progress: Callable[[int, float, float], None] | None = None,
    start_of: Callable[[BlockedFactor], np.ndarray] | None = None,
    criterion_of: Callable[[BlockedFactor], Callable[[np.ndarray], float]] | None = None,
    blups: bool | str = True,
    _lease: KernelLease | None = None,
) -> EngineFit:
    """:func:`fit_lmm` on factors built beforehand (:func:`weighted_factor`): the model's and,
    when its slope columns are centred for the optimizer (``centring``, :meth:`.Centring.of`),
    that of the centred columns (``inner``). Refits to new responses (:mod:`.refit`) build them
    once, and may give ``start_of``, factor → its moment start (by default
    :func:`.start.factor_start`), and ``criterion_of``, factor → its criterion
    θ ↦ value (by default the compiled kernel's where it covers the factor, :mod:`.jit`), and
    ``blups=False`` (the solution without BLUPs, :func:`.solution.solve`; ``"lazy"``: computed
    when first read, off the fit's frozen factor; ``_lease``: the factor's kept compiled
    kernel, :class:`.skeleton.KernelLease`). The returned fit freezes both factors."""
    layout = factor.layout
    lower = layout.lower()
    moments = partial(_moment_start, reml=reml) if start_of is None else start_of
    if optimizer == "auto":
        optimizer = "bobyqa"
    if optimizer not in ("bobyqa", "cobyqa"):
        raise ValueError(f"optimizer must be 'auto', 'bobyqa' or 'cobyqa', not {optimizer!r}")
    evaluate = _compiled_criteria(reml, _lease) if criterion_of is None else criterion_of
    optima: dict[bytes, CentredOptimum] = {}  # θ → the centred optimum to read estimates off
    criteria: dict[bytes, CentredOptimum] = {}  # θ → the optimizer's (centred) optimum
    values: dict[bytes, float] = {}  # θ → the criterion there, as the optimizer found it

    def optimize(start: np.ndarray | None, evals: int = max_evals) -> OptimizerRecord:
        record = None
        if centring is not None:
            assert inner is not None
            found = _minimize_centred(
                centring, inner, factor, reml, start, optimizer, evals, progress, moments,
                evaluate(inner),
            )  # fmt: skip
            if found is not None:
                record, centred = found
                criteria[record.theta.tobytes()] = centred
                if centred.centring.cancelling:
                    optima[record.theta.tobytes()] = centred
        if record is None:
            x0 = moments(factor) if start is None else start
            upper = layout.upper() if layout.structured else None
            fun = evaluate(factor)
            record = minimize_theta(
                fun, x0, lower, method=optimizer, max_evals=evals, upper=upper, progress=progress,
                **FIT_TOLERANCES,
            )  # fmt: skip
            if record.objective < PENALTY:  # the check's f(θ̂)
                values[record.theta.tobytes()] = record.objective
        return record

    def check_at(theta: np.ndarray) -> ConvergenceCheck | None:
        if factor.n >= MAX_NOBS or not len(theta) or vanishing.at_limit(theta, layout):
            return None  # at the σ → 0 limit θ ~ 1e4: no check (the fit warns instead)
        # the derivatives are read off the factor the optimizer used (the centred one, if any)
        centred = criteria.get(theta.tobytes())
        at, theta_at = (factor, theta) if centred is None else (centred.factor, centred.theta)
        flat = ridge_tangent(theta, layout) if centred is None and layout.structured else None
        criterion = evaluate(at)
        compiled = isinstance(criterion, jit.CompiledCriterion)
        check = check_convergence(
            criterion,
            theta_at,
            lower,
            ridge=flat,
            f0=values.get(theta.tobytes()) if centred is None else None,
            many=criterion.many if isinstance(criterion, jit.CompiledCriterion) else None,
        )
        if compiled and check.message is not None:
            # the verdict of the numpy path (rare: flagged fits only): a direction in which the
            # criterion is flat there to the last bit can carry rounding noise here, which
            # finite differences turn into a curvature (see .jit)
            check = check_convergence(lambda th: at.objective(th, reml), theta_at, lower, flat)
        if layout.structured:  # near ρ = 1 θ's absolute steps misjudge (unbounded.py)
            only = structured_entries(layout)
            check = second_opinion(check, criterion, theta_at, lower, layout.upper(), None, only)
        return check

    with _blas_threads(factor):
        given = None if theta_start is None else np.asarray(theta_start, dtype=float)
        # a structured fit crawling to σ → 0 is moved to that limit (vanishing.py)
        limits = (deferred(evaluate, factor, centring), layout, layout.lower(), layout.upper())
        # the exact limit of a lone structured term (limit_gls.py, built when first evaluated)
        exact = (
            ray_criteria(factor, reml)  # (or with terms crossed with its groups)
            if layout.structured  # without a structured term there is none
            else None
        )
        spent = [0]  # evaluations so far: each optimization gets the rest of max_evals

        def watched(start: np.ndarray | None, known: Record | None = None) -> Record:
            budget = max(1, max_evals - spent[0])  # (known: restarts' first record)
            done = early_watched(optimize, limits[0], start, *limits[1:], budget, exact, known)
            spent[0] += done.evaluations
            return done

        # the same records and checks on the compiled kernel where it covers the fit
        plain = optimizer == "bobyqa" and all(
            v is None for v in (given, progress, start_of, criterion_of)
        )
        centre = (centring, inner, reml, criteria, optima)  # centred columns: .compiled_centred
        fast = compiled_optimum(factor, evaluate, moments, max_evals, centre) if plain else None
        if fast is not None:
            record, check = fast
        else:
            record = watched(given)
            limit = vanishing.at_limit(record.theta, layout)
            if given is not None and not limit:
                record = replace(record, start="given")
            check = None if limit else check_at(record.theta)
            # second starts for a fit on the boundary or failing the derivative check
            boundary, exhausted = centred_theta(criteria), lambda: spent[0] >= max_evals
            record, check = restart.improve(
                record,
                *(check, layout, partial(watched, known=record), check_at),
                boundary_theta=boundary,
                spent=exhausted,
            )
        # a premature stop of BOBYQA: one Newton step from the check's derivatives (.newton),
        # the check then redone at the kept step (the reported θ̂'s: the one a reload computes)
        record, check = polish_fit(
            record, check, factor, evaluate, reml, (criteria, optima), max_evals, check_at
        )
        if layout.structured:
            rest = max_evals - record.evaluations
            if rest > 0:  # none left: the cap holds (the fit warns, unconverged)
                record = vanishing.settle(record, *limits, rest, exact)
            check = None if vanishing.at_limit(record.theta, layout) else check
            if check is None and vanishing.at_limit(record.theta, layout):
                rest = max(1, max_evals - record.evaluations)  # a vanished crossed term
                record, check = crossed_polish(factor, record, reml, rest)
        record = vanishing.capped(record, record.evaluations, max_evals)  # over all restarts
        centred = optima.get(record.theta.tobytes())
        solution, record = _solution(factor, centred, record, reml, blups)
    criterion = None if centred is not None else criteria.get(record.theta.tobytes())
    return EngineFit(
        factor,
        record.theta,
        record.objective,
        reml,
        record,
        solution,
        check,
        _centred=centred,
        _criterion=criterion,
    )


def _solution(
    factor: BlockedFactor,
    centred: CentredOptimum | None,
    record: OptimizerRecord,
    reml: bool,
    blups: bool | str = True,
) -> tuple[Solution, OptimizerRecord]:
    """The estimates at θ̂ and the record with the criterion reported there. At the σ → 0 limit
    the blocked factor is ill-conditioned (θ ~ 1e4: criteria 1e-8 relative apart for y and
    y + 1e4): the exact limit model's (:func:`.limit_gls.limit_solution`) where there is one,
    else the factor's value (a reload recomputes both; the compiled kernel's rounding differs
    there by ~1e-9 relative)."""
    if centred is not None:
        return centred.solve(reml), record
    solution = solve(factor, record.theta, reml, blups is not False, lazy=blups == "lazy")
    if vanishing.at_limit(record.theta, factor.layout):
        exact = limit_solution(factor, record.theta, reml)
        if exact is not None:
            return exact[0], replace(record, objective=exact[1])
        record = replace(record, objective=factor.objective(record.theta, reml))
    return solution, record


def criterion_at(
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    theta: np.ndarray,
) -> CentredOptimum | None:
    """The optimizer's centred (or scaled) columns at a given θ̂, as :func:`fit_lmm` keeps them
    for derivatives when the estimates are not read off them (a fit rebuilt from a file);
    None when no column is centred or scaled, or when they cancel (then see
    :class:`.CentredOptimum` from the fit itself)."""
    centring = Centring.of(terms)
    if centring is None or centring.cancelling:
        return None
    try:
        theta_centred = centring.to_centred(np.asarray(theta, dtype=float))
    except np.linalg.LinAlgError:
        return None
    inner = weighted_factor(centring.terms(terms), X, y, weights)
    return CentredOptimum(centring, inner, theta_centred)


def _compiled_criteria(
    reml: bool, lease: KernelLease | None = None
) -> Callable[[BlockedFactor], Callable[[np.ndarray], float]]:
    """factor ↦ its criterion θ ↦ value, through the compiled kernel where it covers the
    factor and the process wants it (:func:`.jit.criterion`, :func:`.jit.wanted`; ``lease``'s
    kept kernel for its factor), built once per factor and fit."""
    built: dict[int, Callable[[np.ndarray], float]] = {}
    compiled = jit.wanted()

    def of(factor: BlockedFactor) -> Callable[[np.ndarray], float]:
        if id(factor) not in built:
            kept = lease.criterion(factor, reml) if compiled and lease is not None else None
            built[id(factor)] = kept or (
                jit.criterion(factor, reml) if compiled else lambda th: factor.objective(th, reml)
            )
        return built[id(factor)]

    return of


def _minimize_centred(
    centring: Centring,
    inner: BlockedFactor,
    factor: BlockedFactor,
    reml: bool,
    theta_start: np.ndarray | None,
    optimizer: str,
    max_evals: int,
    progress: Callable[[int, float, float], None] | None,
    moments: Callable[[BlockedFactor], np.ndarray],
    criterion: Callable[[np.ndarray], float],
) -> tuple[OptimizerRecord, CentredOptimum] | None:
    """Optimize on centred slope columns; the record with θ mapped back to the original columns
    and the optimum on the centred ones (the estimates are read off it when the original columns
    cancel, :attr:`.Centring.cancelling`; derivatives always); None if the result cannot be
    evaluated (a starved optimizer far out, say). ``inner`` is the factor of the centred
    columns (:meth:`.Centring.terms`), ``criterion`` its θ ↦ criterion."""
    start = None
    if theta_start is not None:
        # a start from a fit whose columns cancel may itself be too inaccurate to map
        with contextlib.suppress(np.linalg.LinAlgError), np.errstate(all="ignore"):
            start = centring.to_centred(np.asarray(theta_start, dtype=float))
        if start is not None and not np.all(np.isfinite(start)):
            start = None
    if start is None:
        start = moments(inner)
    record = minimize_theta(
        criterion, start, inner.layout.lower(), method=optimizer, max_evals=max_evals,
        progress=progress, **FIT_TOLERANCES,
    )  # fmt: skip
    try:
        theta = centring.to_original(record.theta)
        theta_start = centring.to_original(record.theta_start)
        optimum = CentredOptimum(centring, inner, record.theta)
        if centring.cancelling:
            objective, evaluations = record.objective, record.evaluations
        else:
            objective, evaluations = factor.objective(theta, reml), record.evaluations + 1
    except np.linalg.LinAlgError:
        return None
    if not np.isfinite(objective):
        return None
    record = replace(
        record,
        theta=theta,
        theta_start=theta_start,
        objective=objective,
        evaluations=evaluations,
    )
    return record, optimum


def weighted_factor(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> BlockedFactor:
    """The blocked factor of a model, prior weights applied as :func:`fit_lmm` does.

    Parameters
    ----------
    terms : list of ReTerm
        Z not weighted.
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
        Response with any offset already subtracted.
    weights : ndarray, shape (n,), optional
        Positive prior weights: rows of X, y and Z are scaled by their square roots and the
        criterion gets the sum of their logarithms.

    Returns
    -------
    BlockedFactor
        Not yet updated to any θ; on centred X and y when X has an intercept column
        (:mod:`.reparam`; :meth:`~.factor.BlockedFactor.fixed_effects` maps back).
    """
    X, y, fixed_map = centre_fixed(X, y, weights)
    log_w = 0.0
    if weights is not None:
        sw = np.sqrt(weights)
        X, y = X * sw[:, None], y * sw
        terms = [t.with_Z(t.Z * sw[:, None]) for t in terms]
        log_w = float(np.sum(np.log(weights)))
    return BlockedFactor(terms, X, y, log_w, fixed_map)
