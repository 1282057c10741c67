"""Fit a linear mixed model from arrays: weighting, factor, optimization, estimates."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from . import restart
from .centring import CentredOptimum, Centring
from .convergence import MAX_NOBS, ConvergenceCheck, check_convergence
from .factor import BlockedFactor
from .optimize import OptimizerRecord, finite_difference_gradient, minimize_theta
from .reparam import centre_fixed
from .reterm import ReTerm
from .solution import Solution, conditional_variances, solve
from .start import moment_start
from .threads import single_threaded

__all__ = ["EngineFit", "fit_lmm", "weighted_factor"]

SINGULAR_TOL = 1e-4  # lme4's isSingular() tolerance on diagonal θ


@dataclass(frozen=True)
class EngineFit:
    """Everything the engine computed for one model.

    Attributes
    ----------
    factor : BlockedFactor
        At θ̂.
    theta : ndarray
    objective : float
    reml : bool
    record : OptimizerRecord
    solution : Solution
    """

    factor: BlockedFactor
    theta: np.ndarray
    objective: float
    reml: bool
    record: OptimizerRecord
    solution: Solution
    check: ConvergenceCheck | None = None
    _condvar: list[np.ndarray] = field(default_factory=list, repr=False)
    _centred: CentredOptimum | None = field(default=None, repr=False)
    # the optimizer's centred columns when the estimates are not read off them: the criterion is
    # better conditioned there for derivatives (Satterthwaite's df are invariant to the map)
    _criterion: CentredOptimum | None = field(default=None, repr=False)
    _gradient: list[np.ndarray] = field(default_factory=list, repr=False)
    _accurate: list[tuple[BlockedFactor, np.ndarray, np.ndarray]] = field(
        default_factory=list, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        # read-only from here on: a fit may be shared between threads (see BlockedFactor.clone)
        if self._centred is None:
            self.factor.freeze(self.theta)
        else:  # the original columns may not factor at θ̂ (they cancel): estimates come from here
            self._centred.factor.freeze(self._centred.theta)
            with contextlib.suppress(np.linalg.LinAlgError), np.errstate(all="ignore"):
                self.factor.freeze(self.theta)
        if self._criterion is not None:
            with contextlib.suppress(np.linalg.LinAlgError), np.errstate(all="ignore"):
                self._criterion.factor.freeze(self._criterion.theta)

    @property
    def singular(self) -> bool:
        """True if a diagonal θ entry is below lme4's tolerance (1e-4); θ of the centred columns
        if the estimates were read off them (the original columns' θ is then too close to
        singular to tell)."""
        diag = self.factor.layout.diagonal_mask()
        theta = self.theta if self._centred is None else self._centred.theta
        return bool(np.any(theta[diag] < SINGULAR_TOL))

    @property
    def cancelling(self) -> bool:
        """True if the estimates were read off centred slope columns because the original ones
        cancel (:attr:`.Centring.cancelling`): θ is then too inaccurate to evaluate the
        criterion at; use :meth:`criterion_factor`."""
        return self._centred is not None

    def criterion_factor(
        self, accurate: bool = False, derivatives: bool = False
    ) -> tuple[BlockedFactor, np.ndarray, np.ndarray]:
        """A private copy of the factor the estimates were read off, θ̂ in its coordinates, and
        which θ entries' SDs and correlations are those of the original columns.

        Usually the fit's own factor, θ̂ and all True. When the original columns cancel (see
        :attr:`cancelling`), the factor of the centred slope columns, θ̂' and, per θ entry, True
        unless it involves the intercept of a centred term. The criterion, β, σ and the
        derivatives of anything invariant under the reparametrization (Satterthwaite's and
        Kenward-Roger's df, profiles of β, σ and the invariant SDs and correlations) can be
        computed there; θ's other entries (the intercept's SD at x = 0 and its correlations)
        cannot be profiled to any accuracy.

        Parameters
        ----------
        accurate : bool
            Centre only the terms whose own columns cancel (a factor built once per fit), so
            that the other terms' θ entries all stand for their original columns' SDs and
            correlations (for profiles); by default the factor the optimizer used.
        derivatives : bool
            For derivatives of invariant quantities only (Satterthwaite's df): the optimizer's
            centred columns also when the estimates were not read off them (slope columns a few
            SDs from 0 already make finite differences in θ lose digits).

        Returns
        -------
        factor : BlockedFactor
            A clone: free to update to other θ.
        theta : ndarray, shape (m,)
        invariant : ndarray of bool, shape (m,)
        """
        if self._centred is None:
            if derivatives and self._criterion is not None:
                crit = self._criterion
                return crit.factor.clone(), crit.theta, crit.centring.invariant()
            return self.factor.clone(), self.theta, np.ones(self.theta.shape, dtype=bool)
        centred = self._centred
        if not accurate or all(centred.centring.cancelling_terms()):
            return centred.factor.clone(), centred.theta, centred.centring.invariant()
        with self._lock:
            if not self._accurate:
                factor, theta, centring = centred.accurate_factor(self.factor, self.theta)
                with np.errstate(all="ignore"):
                    factor.freeze(theta)
                self._accurate.append((factor, theta, centring.invariant()))
        factor, theta, invariant = self._accurate[0]
        return factor.clone(), theta, invariant

    def relative_covariances(self) -> list[np.ndarray]:
        """Per term the k×k relative covariance T Tᵀ of the random effects (multiply by σ̂²);
        read off the centred columns' θ̂' when the original columns cancel."""
        if self._centred is None:
            return [T @ T.T for T in self.factor.layout.templates(self.theta)]
        return self._centred.centring.relative_covariances(self._centred.theta)

    def gradient(self) -> np.ndarray:
        """Finite-difference gradient of the criterion at θ̂ (computed once), shape (m,); with
        respect to θ̂' of the centred columns when the original columns cancel (as the
        derivative check, :attr:`check`)."""
        if self.check is not None:
            return self.check.gradient
        with self._lock:  # computed once, on a private copy of the factor
            if not self._gradient:
                factor, theta, _ = self.criterion_factor()
                with _blas_threads(factor):
                    g = finite_difference_gradient(
                        lambda th: factor.objective(th, self.reml),
                        theta,
                        factor.layout.lower(),
                    )
                self._gradient.append(g)
        return self._gradient[0]

    def conditional_variances(self) -> list[np.ndarray]:
        """Per term (nlev, k, k) conditional covariances of the BLUPs (computed once)."""
        with self._lock:
            if not self._condvar:
                sigma = self.solution.sigma
                if self._centred is not None:
                    self._condvar.extend(self._centred.conditional_variances(sigma))
                else:
                    self._condvar.extend(conditional_variances(self.factor, self.theta, sigma))
        return self._condvar


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
    factor = weighted_factor(terms, X, y, weights)
    layout = factor.layout
    if optimizer == "auto":
        optimizer = "bobyqa"
    if optimizer not in ("bobyqa", "cobyqa"):
        raise ValueError(f"optimizer must be 'auto', 'bobyqa' or 'cobyqa', not {optimizer!r}")
    centring = Centring.of(terms)
    optima: dict[bytes, CentredOptimum] = {}  # θ → the centred optimum to read estimates off
    criteria: dict[bytes, CentredOptimum] = {}  # θ → the optimizer's (centred) optimum

    def optimize(start: np.ndarray | None) -> OptimizerRecord:
        record = None
        if centring is not None:
            found = _minimize_centred(
                centring, terms, factor, X, y, weights, reml, start, optimizer, max_evals, progress
            )
            if found is not None:
                record, centred = found
                criteria[record.theta.tobytes()] = centred
                if centred.centring.cancelling:
                    optima[record.theta.tobytes()] = centred
        if record is None:
            record = minimize_theta(
                lambda th: factor.objective(th, reml),
                moment_start(layout, factor.X, factor.y) if start is None else start,
                layout.lower(),
                method=optimizer,
                max_evals=max_evals,
                progress=progress,
            )
        return record

    def check_at(theta: np.ndarray) -> ConvergenceCheck | None:
        if factor.n >= MAX_NOBS or not len(theta):
            return None
        # the derivatives are read off the factor the optimizer used (the centred one, if any)
        centred = criteria.get(theta.tobytes())
        at, theta_at = (factor, theta) if centred is None else (centred.factor, centred.theta)
        return check_convergence(lambda th: at.objective(th, reml), theta_at, layout.lower())

    with _blas_threads(factor):
        given = None if theta_start is None else np.asarray(theta_start, dtype=float)
        record = optimize(given)
        if given is not None:
            record = replace(record, start="given")
        check = check_at(record.theta)
        # second starts for a fit on the boundary or failing the derivative check (restart.py)
        record, check = restart.improve(
            record, check, layout, optimize, check_at, boundary_theta=_centred_theta(optima)
        )
        centred = optima.get(record.theta.tobytes())
        solution = solve(factor, record.theta, reml) if centred is None else centred.solve(reml)
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


def _centred_theta(
    optima: dict[bytes, CentredOptimum],
) -> Callable[[np.ndarray], np.ndarray]:
    """θ → the centred optimum's θ' where the estimates are read off centred columns, else θ."""

    def judged(theta: np.ndarray) -> np.ndarray:
        centred = optima.get(theta.tobytes())
        return theta if centred is None else centred.theta

    return judged


def _minimize_centred(
    centring: Centring,
    terms: list[ReTerm],
    factor: BlockedFactor,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    reml: bool,
    theta_start: np.ndarray | None,
    optimizer: str,
    max_evals: int,
    progress: Callable[[int, float, float], None] | None,
) -> tuple[OptimizerRecord, CentredOptimum] | None:
    """Optimize on centred slope columns; the record with θ mapped back to the original columns
    and the optimum on the centred ones (the estimates are read off it when the original columns
    cancel, :attr:`.Centring.cancelling`; derivatives always); None if the result cannot be
    evaluated (a starved optimizer far out, say)."""
    inner = weighted_factor(centring.terms(terms), X, y, weights)
    start = None
    if theta_start is not None:
        # a start from a fit whose columns cancel may itself be too inaccurate to map
        with contextlib.suppress(np.linalg.LinAlgError), np.errstate(all="ignore"):
            start = centring.to_centred(np.asarray(theta_start, dtype=float))
        if start is not None and not np.all(np.isfinite(start)):
            start = None
    if start is None:
        start = moment_start(inner.layout, inner.X, inner.y)
    record = minimize_theta(
        lambda th: inner.objective(th, reml),
        start,
        inner.layout.lower(),
        method=optimizer,
        max_evals=max_evals,
        progress=progress,
    )
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
        terms = [ReTerm(t.refs, t.Z * sw[:, None], t.nlev, t.correlated) for t in terms]
        log_w = float(np.sum(np.log(weights)))
    return BlockedFactor(terms, X, y, log_w, fixed_map)


def _blas_threads(factor: BlockedFactor) -> contextlib.AbstractContextManager[None]:
    """One BLAS thread for the evaluations; large dense factorizations take all threads."""
    return single_threaded()
