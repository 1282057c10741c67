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
from dataclasses import dataclass, field, replace

import numpy as np

from .. import vanishing
from ..convergence import MAX_NOBS, ConvergenceCheck, check_convergence, derivatives
from ..factor import BlockedFactor
from ..optimize import OptimizerRecord, minimize_theta
from ..reterm import ReTerm
from ..ridge import ridge_tangent
from ..solution import Solution, solve
from ..start import moment_start
from ..threads import single_threaded
from ..vanishing import capped
from . import restart, vanished
from .criterion import ResidualCriterion
from .gradient import GradientCriterion
from .gradient_fit import check_with_gradient, gradient_criterion, minimize_with_gradient
from .structure import ResidualModel

__all__ = ["ResidualFit", "fit_residual"]


@dataclass(frozen=True)
class ResidualFit:
    """Estimates of a model with a residual structure.

    Attributes
    ----------
    theta : ndarray
        Random-effects parameters (lme4's θ, relative to σ).
    phi : ndarray
        Structure parameters (unconstrained, :attr:`model` reports them).
    objective : float
        −2 log-likelihood (REML or ML, nlme's scale).
    reml : bool
    record : OptimizerRecord
        Of the joint optimization over x = (θ, φ).
    solution : Solution
        β̂, Var(β̂)/σ̂², σ̂, BLUPs (of the original random effects).
    factor : BlockedFactor
        Of the whitened rows at φ̂, holding θ̂.
    model : ResidualModel
    check : ConvergenceCheck or None
        lme4's derivative check at x̂ = (θ̂, φ̂); None when skipped (≥ MAX_NOBS rows, or no
        parameter to check).
    boundary : str or None
        Why φ̂ is a degenerate limit of the structure (a spatial range at its bound:
        :meth:`.ResidualModel.at_bound`), for a warning; None otherwise.
    """

    theta: np.ndarray
    phi: np.ndarray
    objective: float
    reml: bool
    record: OptimizerRecord
    solution: Solution
    factor: BlockedFactor
    model: ResidualModel
    check: ConvergenceCheck | None = field(default=None, repr=False)
    boundary: str | None = None

    @property
    def loglik(self) -> float:
        """The (REML) log-likelihood, −objective/2."""
        return -0.5 * self.objective

    @property
    def beta(self) -> np.ndarray:
        return self.solution.beta

    @property
    def sigma(self) -> float:
        return self.solution.sigma

    @property
    def vcov(self) -> np.ndarray:
        """Var(β̂) = σ̂² (X'V⁻¹X)⁻¹ with V relative to σ²."""
        return self.solution.sigma**2 * self.solution.vcov_unscaled

    def residual_params(self) -> dict[str, float]:
        """The structure's parameters on nlme's scale."""
        return self.model.report(self.phi)

    def residual_block(self, rows: np.ndarray) -> np.ndarray:
        """σ̂²Λ_R of the given rows (of one subject), shape (m, m)."""
        return self.sigma**2 * self.model.block(self.phi, rows)


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

    Returns
    -------
    ResidualFit
    """
    with single_threaded():  # small calls throughout: threads cost more than they gain
        crit = ResidualCriterion(terms, X, y, model)
        phi0 = model.start() if phi_start is None else np.asarray(phi_start, dtype=float)
        if theta_start is None:
            theta0 = moment_start(*crit.start_rows(phi0)) if crit.n_theta else np.zeros(0)
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

        spent = [0]  # every evaluation of the fit: max_evals caps their total

        def fun(x: np.ndarray) -> float:
            spent[0] += 1
            return crit.objective(x, reml)

        def left() -> int:
            return max(1, max_evals - spent[0])

        def optimize(x0: np.ndarray | None, evals: int) -> OptimizerRecord:
            assert x0 is not None
            return minimize_theta(fun, x0, lower, max_evals=evals, progress=progress, upper=upper)

        def polish(record: OptimizerRecord) -> OptimizerRecord:
            return _polish(fun, record, lower, left(), upper)

        for i, x0 in enumerate(tried):
            x0 = np.asarray(x0, dtype=float)
            record = (
                vanishing.watched(optimize, fun, x0, crit.layout, lower, upper, left())
                if grad is None
                else minimize_with_gradient(grad, fun, x0, lower, left(), progress)
            )
            if i:
                record = replace(record, start=f"start {i + 1}")
            if best is None or record.objective < best.objective - 1e-9:
                best = record
        assert best is not None
        best = _ridge(crit, best, reml)
        if grad is None and not vanishing.at_limit(best.theta, crit.layout):
            # the gradient path restarts itself (gradient_fit.GRADIENT_ROUNDS)
            best = _polish(fun, best, lower, left(), upper)
            best = restart.off_the_face(crit, fun, best, lower, left(), upper, polish)
            best = restart.improve(crit, fun, best, lower, upper, left(), polish)
        if crit.n_theta and crit.layout.structured:
            best = vanishing.settle(best, fun, crit.layout, lower, upper, left())
        best = capped(best, spent[0], max_evals)
        best, vanished_mask = vanished.settle(fun, best, model, crit.n_theta)
        check = None
        # no derivative check at θ → ∞, nor at a vanished residual variance (its noise)
        if not (vanishing.at_limit(best.theta, crit.layout) or vanished_mask.any()):
            best, check = _derivative_check(crit, best, reml, model.n, grad)
        theta, phi = crit.split(best.theta)
        factor = crit.factor_at(phi)  # the final results: rows whitened at φ̂
        solution = solve(factor, theta, reml)
        objective = factor.objective(theta, reml)
    if not math.isfinite(objective):
        objective = best.objective
    best = replace(best, objective=objective)  # the record states the reported criterion
    boundary = model.at_bound(phi)
    boundary = vanished.joined(boundary, model, crit.n_theta, vanished_mask)
    boundary = vanishing.limit_warning(best.theta, crit.layout, names) or boundary
    return ResidualFit(theta, phi, objective, reml, best, solution, factor, model, check, boundary)


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
        theta = moment_start(*crit.start_rows(phi))
    except np.linalg.LinAlgError:
        theta = np.zeros(crit.n_theta)
    return np.concatenate([theta, phi])


def _derivative_check(
    crit: ResidualCriterion,
    best: OptimizerRecord,
    reml: bool,
    n: int,
    grad: GradientCriterion | None = None,
) -> tuple[OptimizerRecord, ConvergenceCheck | None]:
    """lme4's check at the optimum (below :data:`MAX_NOBS` rows): the record gets the
    gradient and its evaluations, and ``converged=False`` with the check's message on failure.
    With an analytic gradient, the derivatives come from it (:func:`.gradient_fit.
    check_with_gradient`)."""
    x = best.theta
    if n >= MAX_NOBS or not x.size:
        return best, None
    count = [0]

    def fun(z: np.ndarray) -> float:
        count[0] += 1
        return crit.objective(z, reml)

    analytic = None if grad is None else check_with_gradient(grad, x, crit.lower())
    if analytic is not None:
        check, count[0] = analytic
    else:
        check = check_convergence(fun, x, crit.lower(), ridge=_flat(crit, x))
    record = replace(best, gradient=check.gradient, evaluations=best.evaluations + count[0])
    if check.message is not None:
        record = replace(record, converged=False, message=check.message)
    return record, check


def _flat(crit: ResidualCriterion, x: np.ndarray) -> np.ndarray | None:
    """The ridge of a structured term that absorbs σ² (:mod:`..ridge`), when the residual
    covariance is σ² I (no parameters, unit multipliers, no correlation)."""
    model = crit.model
    if model.size or model.correlation is not None or not crit.n_theta:
        return None
    if not np.all(model.multipliers(np.zeros(0)) == 1.0):
        return None
    return ridge_tangent(x, crit.layout) if crit.layout.structured else None


POLISH_STEP = 0.1
"""The restarts' first step, as a fraction of the first run's (they start at an optimum)."""
POLISH_ROUNDS = 3
"""Restarts of BOBYQA from its own optimum while they lower the criterion by more than 1e-9
(relative): a restart rebuilds the quadratic model with a fresh trust region, which moves a
stop short of the optimum on flat ridges (unstructured Σ, a spatial range)."""


CERTIFY_MAX = 4
"""Parameters up to which a derivative check (m² + m + 1 evaluations) is tried before the
restarts: a strict local minimum certified by it needs no restart."""
CERTIFY_DECREASE = 1e-10
"""Largest decrease ½ g'H⁻¹g (relative to the criterion) a Newton step may promise at a
certified optimum (ten times below the restarts' 1e-9)."""
CERTIFY_STEP = 1e-6
"""Largest Newton step |H⁻¹g| (relative to max(1, |x|)) at a certified optimum."""


def _certified(
    fun: Callable[[np.ndarray], float],
    best: OptimizerRecord,
    lower: np.ndarray,
    upper: np.ndarray | None,
) -> tuple[bool, int]:
    """Whether ``best`` is a strict interior local minimum to the polish's accuracy by
    central differences (:func:`~..convergence.derivatives`): every parameter at least a step
    from its bounds, the Hessian positive definite, the Newton step below
    :data:`CERTIFY_STEP` and its promised decrease below :data:`CERTIFY_DECREASE`. Also the
    evaluations spent (0 when not tried: too many parameters or a parameter near a bound)."""
    x = best.theta
    m = len(x)
    h = 1e-4  # the step of derivatives()
    top = np.full(m, np.inf) if upper is None else upper
    if not 0 < m <= CERTIFY_MAX or np.any(x - h < lower) or np.any(x + h > top):
        return False, 0
    count = [0]

    def counted(z: np.ndarray) -> float:
        count[0] += 1
        return fun(z)

    grad, hess = derivatives(counted, x, lower)
    if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
        return False, count[0]
    try:
        C = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return False, count[0]
    step = np.linalg.solve(C.T, np.linalg.solve(C, grad))
    decrease = 0.5 * float(grad @ step)
    small = np.all(np.abs(step) <= CERTIFY_STEP * np.maximum(1.0, np.abs(x)))
    ok = bool(small) and decrease <= CERTIFY_DECREASE * max(1.0, abs(best.objective))
    return ok, count[0]


def _polish(
    fun: Callable[[np.ndarray], float],
    best: OptimizerRecord,
    lower: np.ndarray,
    max_evals: int,
    upper: np.ndarray | None = None,
) -> OptimizerRecord:
    """Restart from ``best`` (up to :data:`POLISH_ROUNDS` times) and keep the lowest criterion,
    unless a derivative check certifies ``best`` first (:func:`_certified`); the evaluations
    of every round and of the check are counted."""
    certified, spent = _certified(fun, best, lower, upper)
    best = replace(best, evaluations=best.evaluations + spent)
    if certified:
        return best
    for _ in range(POLISH_ROUNDS):
        record = minimize_theta(
            fun, best.theta, lower, max_evals=max_evals, upper=upper, step_scale=POLISH_STEP
        )
        total = best.evaluations + record.evaluations
        improved = record.objective < best.objective - 1e-9 * max(1.0, abs(best.objective))
        if record.objective < best.objective:
            best = replace(
                record, evaluations=total, start=best.start, theta_start=best.theta_start
            )
        else:
            best = replace(best, evaluations=total)
        if not improved:
            break
    return best
