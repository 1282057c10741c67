"""Confidence intervals for all parameters of a fitted model: Wald, profile likelihood, and
parametric-bootstrap percentile intervals, as lme4's ``confint.merMod``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.stats

from ..exceptions import MixedFitError
from ..model.residual import ResidualModelFit, not_implemented
from .bootstrap import bootstrap, percentile_interval
from .parameters import parameter_names, variance_names
from .profile import profile_intervals

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = ["confint", "wald_intervals"]

_METHODS = ("wald", "profile", "boot")


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level!r}")


def wald_intervals(fit: MixedModelFit, level: float = 0.95) -> pd.DataFrame:
    """Wald intervals β̂ ± z·SE of the fixed effects (lme4's ``method = "Wald"``).

    Parameters
    ----------
    fit : MixedModelFit
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, upper``; index all parameter names (see :func:`parameter_names`). The
        SD, correlation and ``sigma`` rows are NaN, as lme4's NA.
    """
    _check_level(level)
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    beta = fit._engine.solution.beta
    se = np.sqrt(np.diag(fit.vcov.to_numpy()))
    nv = len(variance_names(fit)) + 1
    lower = np.concatenate([np.full(nv, np.nan), beta - z * se])
    upper = np.concatenate([np.full(nv, np.nan), beta + z * se])
    return pd.DataFrame({"lower": lower, "upper": upper}, index=parameter_names(fit))


def confint(
    fit: MixedModelFit,
    method: str = "wald",
    level: float = 0.95,
    *,
    nsim: int = 500,
    seed: int | np.random.Generator | None = None,
    parm: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Confidence intervals of all parameters, as lme4's ``confint(fit, oldNames = FALSE)``.

    Parameters
    ----------
    fit : MixedModelFit
    method : {"wald", "profile", "boot"}, default "wald"
        "wald": β̂ ± z·SE for the fixed effects, NaN for the covariance parameters.
        "profile": profile-likelihood intervals of the ML deviance, also for a REML fit (as
        lme4; see :func:`mixedfit.inference.profile.profile_intervals`).
        "boot": percentile intervals of a parametric bootstrap (see :func:`bootstrap`).
        Case-insensitive.
    level : float, default 0.95
        Confidence level, in (0, 1).
    nsim : int, default 500
        Bootstrap replicates (method "boot" only).
    seed : int or numpy.random.Generator, optional
        Seed of the bootstrap (method "boot" only).
    parm : str or list of str, optional
        The parameters whose intervals are wanted, by name (lme4's ``parm``; default all). A
        profile is computed only for these: profiling only the parameters one needs saves the
        others' profiles.

    Returns
    -------
    pandas.DataFrame
        Columns ``lower, upper``; one row per parameter, indexed by name in lme4's order: per
        random-effects term its SDs and correlations in θ order (``sd_(Intercept)|Subject``,
        ``cor_Days.(Intercept)|Subject``, ``sd_Days|Subject``), then ``sigma``, then the fixed
        effects (formulaic's names); with ``parm`` its parameters, in its order.

    Raises
    ------
    ValueError
        An unknown method or a level outside (0, 1); MixedFitError for a name in ``parm`` that
        is not a parameter of the fit.

    Examples
    --------
    >>> import mixedfit as mf
    >>> from mixedfit.inference.intervals import confint
    >>> fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    >>> confint(fit, "profile").round(2).loc["sigma"].tolist()
    [22.9, 28.86]
    >>> confint(fit, "profile", parm="sigma").round(2).values.tolist()
    [[22.9, 28.86]]
    """
    if isinstance(fit, ResidualModelFit):
        not_implemented("mixedfit.inference.intervals.confint")
    _check_level(level)
    wanted = _wanted(fit, parm)
    key = method.lower()
    if key == "wald":
        return _rows(wald_intervals(fit, level), wanted)
    if key == "profile":
        return profile_intervals(fit, level, wanted)
    if key == "boot":
        if isinstance(nsim, bool) or not isinstance(nsim, int | np.integer) or nsim < 2:
            raise MixedFitError(
                f"nsim must be an integer of at least 2 for bootstrap intervals, not {nsim!r} "
                "(use 500 or more for stable 95% intervals)"
            )
        table = bootstrap(fit, nsim, seed=seed)
        rows = [
            percentile_interval(table.iloc[:, i].to_numpy(), level) for i in range(table.shape[1])
        ]
        table = pd.DataFrame(rows, index=parameter_names(fit), columns=["lower", "upper"])
        return _rows(table, wanted)
    raise ValueError(f"method must be one of {_METHODS}, not {method!r}")


def _wanted(fit: MixedModelFit, parm: str | Sequence[str] | None) -> list[str] | None:
    """The names in ``parm`` (None: all), each checked to be a parameter of the fit."""
    if parm is None:
        return None
    names = parameter_names(fit)
    wanted = [parm] if isinstance(parm, str) else [str(p) for p in parm]
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise MixedFitError(
            f"parm {unknown[0]!r} is not a parameter of this fit; the parameters are {names}"
        )
    return wanted


def _rows(table: pd.DataFrame, wanted: list[str] | None) -> pd.DataFrame:
    return table if wanted is None else table.loc[wanted]
