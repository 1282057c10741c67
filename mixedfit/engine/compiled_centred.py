"""A single fit on centred slope columns through the compiled pieces (issue 15).

:func:`.lmm.fit_factors` optimizes a model whose slope columns are centred for the optimizer
(:mod:`.centring`: Orthodont's ``(age | Subject)``) on the centred columns' factor ``inner``
(θ'), maps θ̂' to the original columns' θ (:meth:`.Centring.to_original`), reads the criterion
at θ off the original factor (or off ``inner`` where the columns cancel), checks the derivatives
at θ̂' on ``inner`` (f(θ̂') evaluated again, as the Python path's check is given no value) and
optimizes a fit on the boundary again from lme4's rescaled start mapped to θ'
(:func:`.restart.improve`, the boundary judged on θ' where the columns cancel or are scaled,
:func:`.centring.centred_theta`). :class:`CentredRun` does the same on
:mod:`.compiled_fit`'s run of the inner factor's kernel (BOBYQA in one C call, the derivative
check's evaluations in one call), step by step with the same maps, criteria and comparisons, so
the records, checks and estimates are the Python path's bit for bit.

Where the Python path would leave the centred columns (a θ̂' that cannot be mapped, a criterion
at θ that is not finite: it then optimizes the original columns) or do more,
:class:`PythonPathError` is raised and the whole fit takes the Python path
(:func:`.compiled_fit.compiled_optimum` gives None).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .centring import CentredOptimum, Centring, centred_theta
from .convergence import MAX_NOBS, ConvergenceCheck
from .factor import BlockedFactor
from .optimize import OptimizerRecord

__all__ = ["CentredRun", "PythonPathError"]


class PythonPathError(Exception):
    """The Python path does more here: the whole fit takes it."""


class CentredRun:
    """The optimizations and checks of one centred fit on a compiled run of ``inner``.

    Parameters
    ----------
    run : compiled_fit._Run
        On the kernel of ``inner`` (``minimize``, ``used``, ``max_evals``, ``_check``,
        ``module``, ``fns``, ``meta``).
    centring : Centring
    inner : BlockedFactor
        The centred columns' factor (:meth:`.Centring.terms`).
    factor : BlockedFactor
        The original columns' factor (the criterion at θ, unless the columns cancel).
    reml : bool
    moments : callable
        Factor ↦ its moment start (the start of ``inner`` where none is mapped).
    """

    def __init__(
        self,
        run: Any,
        centring: Centring,
        inner: BlockedFactor,
        factor: BlockedFactor,
        reml: bool,
        moments: Callable[[BlockedFactor], np.ndarray],
    ) -> None:
        self.run, self.centring, self.inner, self.factor = run, centring, inner, factor
        self.reml, self.moments = reml, moments
        self.criteria: dict[bytes, CentredOptimum] = {}  # θ → the optimizer's optimum (θ')
        # the caller's floating-point error handling: the Python path maps θ' and evaluates
        # the original factor under it (the compiled run ignores errors)
        self.errors = np.geterr()
        self.boundary_theta = centred_theta(self.criteria)  # .restart.improve's judge

    def first(self) -> OptimizerRecord:
        """The first optimization, from the moment start of ``inner``."""
        return self._optimize(self.moments(self.inner), self.run.max_evals)

    def again(self, start: np.ndarray) -> OptimizerRecord:
        """A second start θ (original columns) with the rest of the budget: θ' of it, or the
        moment start where it cannot be mapped (.lmm._minimize_centred)."""
        budget = max(1, self.run.max_evals - self.run.used)
        mapped = None
        with contextlib.suppress(np.linalg.LinAlgError), np.errstate(all="ignore"):
            mapped = self.centring.to_centred(np.asarray(start, dtype=float))
        if mapped is None or not np.all(np.isfinite(mapped)):
            mapped = self.moments(self.inner)
        return self._optimize(mapped, budget)

    def _optimize(self, start: np.ndarray, budget: int) -> OptimizerRecord:
        """.lmm._minimize_centred on the compiled run: the record in θ (the run's record with
        θ, the start and the criterion mapped, built once)."""
        count, found, value, x0, message, began = self.run.minimized(start, budget)
        seconds = time.perf_counter() - began  # (the optimization's, as the run's record)
        centring = self.centring
        try:
            with np.errstate(**self.errors):
                theta = centring.to_original(found)
                theta_start = centring.to_original(x0)
                if centring.cancelling:
                    objective, evaluations = value, count
                else:
                    objective = self.factor.objective(theta, self.reml)
                    evaluations = count + 1
        except np.linalg.LinAlgError:
            raise PythonPathError from None  # (it optimizes the original columns)
        if not math.isfinite(objective):
            raise PythonPathError
        self.run.used += evaluations - count
        self.criteria[theta.tobytes()] = CentredOptimum(centring, self.inner, found)
        return OptimizerRecord(
            method="NLopt LN_BOBYQA",
            evaluations=evaluations,
            objective=objective,
            theta=theta,
            theta_start=theta_start,
            gradient=None,
            converged=True,
            message=message,
            seconds=seconds,
        )

    def check_at(self, theta: np.ndarray) -> ConvergenceCheck | None:
        """.lmm's ``check_at``: the derivatives at θ' of the optimization that gave θ."""
        if self.factor.n >= MAX_NOBS:
            return None
        centred = self.criteria.get(theta.tobytes())
        if centred is None:
            raise PythonPathError
        run, x = self.run, centred.theta
        at = x + 0.0  # the Python check's point (its zero step)
        # f(θ̂') as the optimization found it: the same kernel at the same bits gives the same
        # value (the run keeps it per θ̂' it ended at), else evaluated here
        f0 = run.values.get(at.tobytes())
        if f0 is None:
            f0 = float(run.module._criterion(run.fns, at, run.meta))
        return run._check(x, f0)

    def optimum(self, theta: np.ndarray) -> CentredOptimum:
        """The centred optimum of the optimization that gave θ."""
        return self.criteria[theta.tobytes()]
