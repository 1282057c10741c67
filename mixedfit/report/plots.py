"""Diagnostic plots (optional extra ``mixedfit[plot]``, matplotlib).

Each function draws a new matplotlib Figure and returns it. With a notebook's inline backend
or a file backend (Agg ...) the figure is closed in pyplot's state machine after drawing, so a
notebook shows it once (as the cell's value) and figures do not pile up; with a GUI backend it
stays open for ``plt.show()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import MixedFitError
from ..model import MixedModelFit, ResidualModelFit
from ..model.residual import not_implemented

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["caterpillar_order", "plot_profile", "plot_ranef", "plot_residuals"]


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


#: Backends that draw nothing on screen (files, or notebooks' inline images).
_NON_GUI = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def _detached(fig: Figure) -> Figure:
    """Take ``fig`` out of pyplot's list of open figures unless a GUI backend shows them.

    In a notebook (the inline backend) pyplot draws every open figure at the end of a cell, and
    the cell's value, the returned figure, is drawn again: closing it leaves one drawing. With
    a file backend (Agg, PDF ...) nothing is shown either way, and closed figures do not pile up
    in pyplot. With a GUI backend the figure stays open, so ``plt.show()`` in a script shows it.
    ``fig.savefig`` works in every case; ``display(fig)`` or ``fig`` at the end of a cell shows a
    closed figure in a notebook.
    """
    import matplotlib

    backend = str(matplotlib.get_backend()).lower()
    if "inline" in backend or backend.rsplit("_", 1)[-1] in _NON_GUI:
        _pyplot().close(fig)
    return fig


#: Above this many levels a caterpillar panel shows the rank instead of every level's name.
MAX_LABELLED_LEVELS = 60


def caterpillar_order(
    values: pd.DataFrame, sort: bool | str = True, top: int | None = None
) -> np.ndarray:
    """Row positions of the levels a caterpillar plot draws, bottom to top; the same order for
    every column of the term.

    Parameters
    ----------
    values : pandas.DataFrame
        BLUPs of one grouping factor, one row per level, one column per random-effect column.
    sort : bool or str
        True: by the first column (lme4's ``dotplot(ranef(fit))``); a column name: by that
        column; False: the levels' order in the data.
    top : int, optional
        Keep only the ``top`` levels with the largest absolute value in the sort column (the
        first column when ``sort=False``).

    Raises
    ------
    MixedFitError
        ``sort`` names no column, or ``top`` is not a positive integer.
    """
    if isinstance(sort, str):
        if sort not in values.columns:
            raise MixedFitError(
                f"sort={sort!r} is not a random-effect column of this factor; use one of "
                f"{[str(c) for c in values.columns]}, True (the first) or False (data order)"
            )
        key = values[sort].to_numpy()
    else:
        key = values.iloc[:, 0].to_numpy()
    rows = np.arange(len(values))
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
            raise MixedFitError(f"top must be a positive integer (levels to show), not {top!r}")
        keep = np.argsort(-np.abs(key), kind="stable")[: int(top)]
        rows = np.sort(keep)
    if sort is not False:
        rows = rows[np.argsort(key[rows], kind="stable")]
    return rows


def plot_ranef(
    fit: MixedModelFit | ResidualModelFit,
    group: str | None = None,
    level: float = 0.95,
    *,
    sort: bool | str = True,
    top: int | None = None,
) -> Figure:
    """Caterpillar plot: BLUPs of one grouping factor, sorted, with conditional intervals.

    Every panel (one per random-effect column of the factor) shows the levels in the same order,
    so a row is one level across panels.

    Parameters
    ----------
    fit : MixedModelFit or ResidualModelFit
        With a residual structure: its BLUPs and conditional sds (``ranef``, ``ranef_condsd``).
    group : str, optional
        Grouping factor (a key of ``fit.ranef``); defaults to the first.
    level : float
        Coverage of the intervals, ``b ± z·condsd``.
    sort : bool or str, default True
        Order of the levels: by the first column (lme4's ``dotplot``), by the named column, or
        (False) as in the data. See :func:`caterpillar_order`.
    top : int, optional
        Draw only the ``top`` levels with the largest absolute BLUP in the sort column: keeps a
        factor with thousands of levels readable. With more than
        :data:`MAX_LABELLED_LEVELS` levels drawn, the vertical axis shows their rank instead of
        their names.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per random-effect column (not left open in pyplot with a notebook or file
        backend; see :func:`_detached`).
    """
    plt = _pyplot()
    ranef, condsd = fit.ranef, fit.ranef_condsd
    if not ranef:
        raise MixedFitError("the fit has no random effects: nothing to plot")
    group = group if group is not None else next(iter(ranef))
    if group not in ranef:
        raise MixedFitError(f"no grouping factor {group!r}; the fit has {sorted(ranef)}")
    values, sds = ranef[group], condsd[group]
    rows = caterpillar_order(values, sort=sort, top=top)
    z = float(stats.norm.ppf(0.5 + level / 2))
    ncol, n = values.shape[1], len(rows)
    height = min(0.18 * n, 0.18 * MAX_LABELLED_LEVELS) + 1.5
    fig, axes = plt.subplots(1, ncol, figsize=(3.2 * ncol, height), squeeze=False, sharey=True)
    pos = np.arange(n)
    for ax, col in zip(axes[0], values.columns, strict=True):
        b = values[col].to_numpy()[rows]
        half = z * sds[col].to_numpy()[rows]
        ax.errorbar(b, pos, xerr=half, fmt="o", markersize=3 if n <= 200 else 1, capsize=0, lw=1)
        ax.axvline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_title(str(col))
    first = axes[0][0]
    if n <= MAX_LABELLED_LEVELS:
        first.set_yticks(pos, [str(v) for v in values.index[rows]], fontsize=7)
        first.set_ylabel(group)
    else:
        first.set_ylabel(f"{group} (rank of {n} levels)")
    first.set_ylim(-1, n)
    shown = f"top {n} of {len(values)} " if n < len(values) else ""
    fig.suptitle(f"Conditional modes of {shown}{group} with {level:.0%} intervals")
    fig.tight_layout()
    return _detached(fig)


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
    return _detached(fig)


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
    return _detached(fig)
