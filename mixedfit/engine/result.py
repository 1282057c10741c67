"""The engine's result for one model: θ̂, the factor at θ̂ (read-only), estimates, diagnostics.

An :class:`EngineFit` may be shared between threads: its factor is frozen at θ̂ and anything that
evaluates other θ works on a clone (:meth:`EngineFit.criterion_factor`); lazy results are
computed once under a lock.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .centring import CentredOptimum
from .convergence import ConvergenceCheck
from .factor import BlockedFactor
from .limit_gls import limit_conditional_variances
from .optimize import OptimizerRecord, finite_difference_gradient
from .solution import Solution, conditional_variances
from .threads import single_threaded
from .vanishing import at_limit

__all__ = ["SINGULAR_TOL", "EngineFit"]

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

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (and copied) without the lock and the lazily computed results, which are
        computed again when first read (the same bits: a pickled fit is a trusted fit)."""
        state = {k: v for k, v in self.__dict__.items() if k != "_lock"}
        state.update(_condvar=[], _gradient=[], _accurate=[])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_lock", threading.Lock())

    def __post_init__(self) -> None:
        # read-only from here on: a fit may be shared between threads (see BlockedFactor.clone)
        if self._centred is None:
            self.factor.freeze(self.theta)
        else:  # the original columns may not factor at θ̂ (they cancel): estimates come from here
            self._centred.factor.freeze(self._centred.theta)
            with contextlib.suppress(np.linalg.LinAlgError), np.errstate(all="ignore"):
                self.factor.freeze(self.theta)
        # the optimizer's factor (self._criterion's) is brought to its θ̂ when first asked for
        # (_criterion_at_optimum): most fits never need it (a bootstrap's refits never), and
        # nothing touches it in between, so it is the same factor, bit for bit, as if frozen here

    @property
    def at_limit(self) -> bool:
        """True at the σ → 0 limit of a structured term (:func:`.vanishing.at_limit`): σ̂ is 0
        there, and ``solution.sigma`` is the scale of θ (the limit model's)."""
        return self._centred is None and at_limit(self.theta, self.factor.layout)

    @property
    def singular(self) -> bool:
        """True if a diagonal θ entry is below lme4's tolerance (1e-4); θ of the centred columns
        if the estimates were read off them (the original columns' θ is then too close to
        singular to tell)."""
        diag = self.factor.layout.diagonal_mask()
        theta = self.theta
        if self._centred is not None:
            theta = self._centred.theta
        elif self._criterion is not None and self._criterion.scaled:
            theta = self._criterion.theta  # columns in extreme units: judged where scaled
        layout = self.factor.layout
        if layout.structured and layout.structured_singular(theta, SINGULAR_TOL):
            return True
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
            crit = self._criterion
            if derivatives and crit is not None:
                crit = self._criterion_at_optimum()
                return crit.factor.clone(), crit.theta, crit.centring.invariant()
            if accurate and crit is not None and crit.scaled:  # extreme units: scales only
                with self._lock:
                    if not self._accurate:
                        factor, theta, _ = crit.scaled_factor(self.factor, self.theta)
                        with np.errstate(all="ignore"):
                            factor.freeze(theta)
                        self._accurate.append((factor, theta, np.ones(len(theta), dtype=bool)))
                factor, theta, invariant = self._accurate[0]
                return factor.clone(), theta, invariant
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

    def _criterion_at_optimum(self) -> CentredOptimum:
        """The optimizer's centred columns with their factor frozen at their θ̂ (done once,
        under the lock: the fit may be shared between threads)."""
        crit = self._criterion
        assert crit is not None
        with self._lock:
            if not crit.factor._frozen:
                with contextlib.suppress(np.linalg.LinAlgError), np.errstate(all="ignore"):
                    crit.factor.freeze(crit.theta)
        return crit

    def sd_multipliers(self) -> np.ndarray:
        """Per θ entry, what turns an SD read off :meth:`criterion_factor` ``(accurate=True)``
        into the original columns' SD (1 / the column's scale where columns in extreme units
        were scaled; else 1), shape (m,)."""
        crit = self._criterion
        if self._centred is None and crit is not None and crit.scaled:
            return crit.scaled_factor(self.factor, self.theta)[2]
        return np.ones(self.theta.shape)

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
                limit = None
                if self.at_limit:  # the limit model's (0 for a spanning term's observed cells)
                    limit = limit_conditional_variances(self.factor, self.theta, sigma)
                if limit is not None:
                    self._condvar.extend(limit)
                elif self._centred is not None:
                    self._condvar.extend(self._centred.conditional_variances(sigma))
                else:
                    self._condvar.extend(conditional_variances(self.factor, self.theta, sigma))
        return self._condvar


def _blas_threads(factor: BlockedFactor) -> contextlib.AbstractContextManager[None]:
    """One BLAS thread for the evaluations; large dense factorizations take all threads."""
    return single_threaded()
