"""A by= fit's partial refit started with the stratum held and θ profiled (issue 12).

:func:`.partial.partial_retry` refits a by= fit beside a structured term once per stratum s with
s's residual variance vanishing (another stratum the reference). Its start (lane byh8) was the
fit's θ scaled to a largest relative sd of :data:`.multistart.SD_START`, every φ at 0 and s's
ratio at :data:`.partial.START_RATIO`, fitted freely and watched. On rv21's h8 that start lies
on the watershed between two maxima of the "a vanished" model (φ_b = 0.652, R's maximum
ℓ −26.740053, and φ_b = −0.536, ℓ −27.2454): the criterion there is 281 against 53.5 at the
optimum, θ is far below its optimum (relative sds 1 against 29), and BOBYQA's joint path
crosses φ_b ≈ ±0.003 near its 150th evaluation, where the rounding of the data decides the sign
of φ_b (lane h8s: the same state and start reached R's maximum with y, y + 10 and y ± 1000 and
missed it with y + 1e-6, y + 1, y × 1000, y × 1024 and y / 1000: nothing in the start depends on
y's level, its chaos does). The whole fit of h8 with y + 1e3 ended 0.147 below R, reported
converged.

:func:`held_trial` starts where the direction of φ is no longer a matter of rounding: s held at
the probe's floor (:data:`.probe.PROBE_FLOOR`, as the probe's sub-problem holds it), θ
profiled at the start's φ and ratios (BOBYQA over θ alone, to :data:`PROFILE_FTOL` of the
criterion, within :data:`PROFILE_EVALS`), then the probe (:func:`.probe.probed`: the
sub-problem with s held, from that point, and its tests of s's boundary). From the profiled θ,
h8's held sub-problem reached R's maximum from 24 of 24 perturbed starts (θ × (1 ± 1e-3 or
1e-2), φ ± 1e-3 or 1e-2; ~1,000 evaluations each); from the scaled θ 20 of 24 (~3,200).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..optimize import minimize_theta
from ..reterm import ReTerm
from ..threads import single_threaded
from .criterion import ResidualCriterion
from .probe import PROBE_FLOOR, WatchedFit, probed
from .result import ResidualFit
from .structure import ResidualModel
from .variance import IdentPart

__all__ = ["PROFILE_EVALS", "PROFILE_FTOL", "TRIAL_EVALS", "held_trial"]

TRIAL_EVALS = 2_000
"""Evaluations of a by= fit's partial refit after θ's profile, before it is judged
(:func:`.partial.partial_retry`; lane byh8: 1,000 lost h8)."""

PROFILE_EVALS = 2_000
"""The most evaluations of θ's profile at the start (h8: 800–2,000)."""
PROFILE_FTOL = 1e-6
"""Absolute tolerance on the criterion of θ's profile: the criterion's differences do not depend
on y's units (it shifts by (n − p) log a² when y is multiplied by a), so no relative one."""


def held_trial(
    model: ResidualModel,
    x0: np.ndarray,
    n_theta: int,
    stratum: int,
    budget: int,
    reml: bool,
    terms: Sequence[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    fit_one: WatchedFit,
    names: Sequence[str],
) -> ResidualFit:
    """The refit of ``model`` (VarIdent, ``stratum`` not its reference) from x0 = (θ, φ) with
    ``stratum`` held at the probe's floor and θ profiled first (see the module's docstring),
    the probe given :data:`TRIAL_EVALS` evaluations after the profile's, all within
    ``budget``; every evaluation counted.

    Raises
    ------
    numpy.linalg.LinAlgError
        The criterion cannot be evaluated at the start.
    """
    part = model.variance
    assert isinstance(part, IdentPart)
    x0 = np.array(x0, dtype=float)
    nc = model.split(x0[n_theta:])[0].size
    x0[n_theta + nc + part.free.index(stratum)] = np.log(PROBE_FLOOR)
    with single_threaded():
        crit = ResidualCriterion(list(terms), X, y, model)

        def profile(theta: np.ndarray) -> float:
            return crit.objective(np.concatenate([theta, x0[n_theta:]]), reml)

        lower = crit.lower()[:n_theta]
        found = minimize_theta(
            profile, x0[:n_theta], lower, max_evals=min(PROFILE_EVALS, budget), ftol_rel=0.0,
            ftol_abs=PROFILE_FTOL,
        )  # fmt: skip
    start = np.concatenate([found.theta, x0[n_theta:]])
    record = replace(found, theta=start, theta_start=x0, converged=False)
    evals = min(budget, found.evaluations + TRIAL_EVALS)
    return probed(record, [stratum], model, list(terms), X, y, evals, fit_one, names)
