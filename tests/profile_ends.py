"""Checks that a referenced profile interval end is the root of mixedfit's profile, without
searching for it (lane trimA: the search costs ~8 ζ evaluations per end, each two inner
minimizations on the limit model).

:func:`.profile.profile_intervals` steps out from the estimate until ζ brackets ±z, solves
ζ = ±z by Brent's method and checks the root by a fresh ζ. Where a test only asserts that the end
equals a reference value within a tolerance (an R end, or an end R's dense deviance was
evaluated at), the same assertion is that ζ brackets ±z between the reference minus and plus
that tolerance: two ζ evaluations, the first started from the estimate's solution (as the
fresh check). An end on a closed bound (an sd of 0, a correlation of ±1) is the bound where ζ
there stays short of ±z, as in ``profile_intervals``. The search itself is asserted on the
same models by the tests that call ``confint(method="profile")``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import scipy.stats

import mixedfit as mf
from mixedfit.engine.threads import single_threaded
from mixedfit.inference.deviance import Profile, ProfiledDeviance
from mixedfit.inference.limit_profile import limit_profile
from mixedfit.inference.parameters import parameter_names
from mixedfit.inference.profile import _limit_profiles

Z = float(scipy.stats.norm.ppf(0.975))  # ζ at the ends of a 95 % interval


@contextmanager
def limit_profiles(fit: mf.MixedModelFit) -> Iterator[dict[str, Profile]]:
    """The profiles of a fit at the σ → 0 limit on its limit model (as ``profile_intervals``
    makes them), by parameter name (the spanning term's and the terms nested in or crossed
    with its groups)."""
    dev = ProfiledDeviance(fit)
    try:
        with single_threaded():
            _, limit = _limit_profiles(fit, dev)
            assert limit is not None  # else the intervals are NaN with a BoundaryWarning
            assert all(k == 1 for k in fit._engine.sd_multipliers())
            names = parameter_names(fit)[: dev.layout.size]
            profiles = {name: limit_profile(limit, w) for w, name in enumerate(names)}
            yield {name: prof for name, prof in profiles.items() if prof is not None}
    finally:
        dev.restore()


def assert_ends(
    prof: Profile, ends: list[float], bounds: tuple[float, float], rel: float, abs_: float = 0.0
) -> None:
    """Assert that ``ends`` are the profile interval's within max(rel |end|, abs_): ζ = ∓z
    is bracketed by end ∓ that (ζ past ±z outside, short of it inside), or an end on its
    closed bound has |ζ| < z there."""
    for sign, end, bound in zip((-1.0, 1.0), ends, bounds, strict=True):
        if end == bound:
            assert abs(prof.zeta(end)) < Z, (end, prof.zeta(end))
            continue
        tol = max(rel * abs(end), abs_)
        inside, outside = prof.zeta(end - sign * tol), prof.zeta(end + sign * tol)
        assert sign * inside < Z < sign * outside, (end, tol, inside, outside)
        assert math.isfinite(inside) and math.isfinite(outside)
