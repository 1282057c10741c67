"""Diagnostic plots (optional extra ``mixedfit[plot]``, matplotlib).

Each function draws on a new or given Axes/Figure and returns the matplotlib Figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from ..exceptions import MixedFitError
from ..model import MixedModelFit, ResidualModelFit
from ..model.residual import not_implemented

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_profile", "plot_ranef", "plot_residuals"]


def _check_fit(fit: object, what: str) -> None:
    """Raise the planned-method error for a fit with a residual structure (issue 12)."""
    if isinstance(fit, ResidualModelFit):
        not_implemented(what)


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install 'mixedfit[plot]'") from None
    return plt


def plot_ranef(
    fit: MixedModelFit | ResidualModelFit, group: str | None = None, level: float = 0.95
) -> Figure:
    """Caterpillar plot: BLUPs of one grouping factor, sorted, with conditional intervals.

    Parameters
    ----------
    fit : MixedModelFit or ResidualModelFit
        With a residual structure: its BLUPs and conditional sds (``ranef``, ``ranef_condsd``).
    group : str, optional
        Grouping factor (a key of ``fit.ranef``); defaults to the first.
    level : float
        Coverage of the intervals, ``b ± z·condsd``.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per random-effect column.
    """
    plt = _pyplot()
    ranef, condsd = fit.ranef, fit.ranef_condsd
    if not ranef:
        raise MixedFitError("the fit has no random effects: nothing to plot")
    group = group if group is not None else next(iter(ranef))
    if group not in ranef:
        raise MixedFitError(f"no grouping factor {group!r}; the fit has {sorted(ranef)}")
    values, sds = ranef[group], condsd[group]
    z = float(stats.norm.ppf(0.5 + level / 2))
    ncol = values.shape[1]
    fig, axes = plt.subplots(1, ncol, figsize=(3.2 * ncol, 0.18 * len(values) + 1.5), squeeze=False)
    for ax, col in zip(axes[0], values.columns, strict=True):
        order = np.argsort(values[col].to_numpy())
        b = values[col].to_numpy()[order]
        half = z * sds[col].to_numpy()[order]
        pos = np.arange(len(b))
        ax.errorbar(b, pos, xerr=half, fmt="o", markersize=3, capsize=0, lw=1)
        ax.axvline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(pos, [str(v) for v in values.index[order]], fontsize=7)
        ax.set_title(str(col))
    axes[0][0].set_ylabel(group)
    fig.suptitle(f"Conditional modes of {group} with {level:.0%} intervals")
    fig.tight_layout()
    return fig


def plot_residuals(fit: MixedModelFit | ResidualModelFit) -> Figure:
    """Scaled residuals against fitted values, and their normal QQ plot.

    For a fit with a residual structure the residuals are the normalized ones
    (``fit.residuals_of("normalized")``, whitened within subjects: independent with unit
    variance under the model), and the titles say so.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels.
    """
    plt = _pyplot()
    if isinstance(fit, ResidualModelFit):
        resid, label = fit.residuals_of("normalized"), "normalized residual"
        titles = ("Normalized residuals vs fitted", "Normal QQ plot of normalized residuals")
    else:
        resid, label = fit.scaled_residuals, "scaled residual"
        titles = ("Residuals vs fitted", "Normal QQ plot")
    fitted = fit.fitted
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.scatter(fitted, resid, s=8, alpha=0.6)
    left.axhline(0.0, color="grey", lw=0.8, ls="--")
    left.set_xlabel("fitted")
    left.set_ylabel(label)
    left.set_title(titles[0])
    (theory, sample), (slope, intercept, _) = stats.probplot(resid, dist="norm")
    right.scatter(theory, sample, s=8, alpha=0.6)
    right.plot(theory, slope * np.asarray(theory) + intercept, color="grey", lw=1)
    right.set_xlabel("normal quantile")
    right.set_ylabel(label)
    right.set_title(titles[1])
    fig.tight_layout()
    return fig


def plot_profile(
    fit: MixedModelFit | ResidualModelFit, level: float = 0.99, points: int = 11
) -> Figure:
    """Profile ζ plots of every parameter (lme4's ``xyplot(profile(fit))``).

    Parameters
    ----------
    fit : MixedModelFit or ResidualModelFit
    level : float
        Each panel spans the parameter's ``level`` profile interval.
    points : int
        Profile evaluations per parameter.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per parameter, ζ against the value; straight lines mean a quadratic
        (Wald-like) log-likelihood.
    """
    plt = _pyplot()
    if isinstance(fit, ResidualModelFit):
        from ..inference.residual_profile import residual_profile_zeta

        curves = residual_profile_zeta(fit, level=level, points=points)
    else:
        from ..inference.profile import profile_zeta

        curves = profile_zeta(fit, level=level, points=points)
    names = list(dict.fromkeys(curves["parameter"]))
    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.8 * nrow), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        part = curves[curves["parameter"] == name]
        ax.plot(part["value"], part["zeta"], marker="o", markersize=3)
        ax.axhline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("ζ")
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
