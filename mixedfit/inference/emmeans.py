"""Estimated marginal means and their contrasts, as R's emmeans 1.8 on an lmer fit.

Public: :func:`emmeans` (``emmeans(fit, specs, by = by, at = at)``) and :func:`contrasts`
(``contrast(emmeans(...), method, adjust = adjust)``).

The means are rows l of :mod:`.refgrid`'s reference grid averaged with equal weights; their
standard errors and df are those of l'β̂ by the fit's ``ddf`` method, as emmeans with
``lmer.df``:

- ``"kenward-roger"`` (emmeans' default for lmer): pbkrtest's adjusted covariance Φ_A
  (se = √(l'Φ_A l)) and Kenward–Roger df (:func:`.ddf.kenward_roger`); REML fits only.
- ``"satterthwaite"``: lmerTest's df with the unadjusted covariance (:func:`.ddf.satterthwaite`).
- ``"asymptotic"`` (or ``"none"``): df = ∞, normal quantiles.

Fits with a residual covariance structure use :func:`.residual_kr.residual_kenward_roger` and
:func:`.residual_ddf.residual_satterthwaite` (mmrm's formulas). Cells that the data do not
estimate (rank-deficient fixed effects) are not detected: refit without the aliased columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from ..exceptions import MixedFitError
from ..model.residual import ResidualModelFit
from .multiplicity import ADJUSTMENTS, adjust_family
from .refgrid import RefGrid, emm_matrix, level_labels, reference_grid

__all__ = ["contrasts", "emmeans"]

_DDF = {
    "kenward-roger": "kenward-roger",
    "kenward_roger": "kenward-roger",
    "kr": "kenward-roger",
    "satterthwaite": "satterthwaite",
    "asymptotic": "asymptotic",
    "none": "asymptotic",
}
_DEFAULT_ADJUST = {"pairwise": "tukey", "trt.vs.ctrl": "dunnettx", "poly": "none"}
_POLY_NAMES = ["linear", "quadratic", "cubic", "quartic"] + [f"degree {d}" for d in range(5, 21)]


def _ddf(ddf: str) -> str:
    key = str(ddf).strip().lower().replace(" ", "")
    if key not in _DDF:
        raise MixedFitError(
            f"ddf must be 'kenward-roger', 'satterthwaite' or 'asymptotic', not {ddf!r}"
        )
    return _DDF[key]


_Estimator = Callable[[Any, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _estimate(fit: Any, L: np.ndarray, ddf: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """l'β̂, its standard error and df for each row of L."""
    kr: _Estimator
    sat: _Estimator
    if isinstance(fit, ResidualModelFit):
        from .residual_ddf import residual_satterthwaite
        from .residual_kr import residual_kenward_roger

        beta, vcov = fit._engine.beta, fit._engine.vcov
        kr, sat = residual_kenward_roger, residual_satterthwaite
    else:
        from .ddf import kenward_roger, satterthwaite

        sol = fit._engine.solution
        beta, vcov = sol.beta, sol.sigma**2 * sol.vcov_unscaled
        kr, sat = kenward_roger, satterthwaite
    if L.shape[0] == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    if ddf == "kenward-roger":
        return kr(fit, L)
    if ddf == "satterthwaite":
        return sat(fit, L)
    var = np.einsum("ci,ij,cj->c", L, vcov, L)
    return L @ beta, np.sqrt(var), np.full(L.shape[0], np.inf)


def _names(specs: str | Sequence[str] | None, what: str) -> list[str]:
    if specs is None:
        return []
    names = [specs] if isinstance(specs, str) else list(specs)
    if not all(isinstance(n, str) for n in names):
        raise MixedFitError(f"{what} must be a variable name or a list of names, not {specs!r}")
    return names


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise MixedFitError(f"level must be in (0, 1), not {level!r}")


def _index(cells: pd.DataFrame) -> pd.Index:
    if cells.shape[1] == 1:
        return pd.Index(cells.iloc[:, 0].tolist(), name=cells.columns[0])
    return pd.MultiIndex.from_frame(cells)


def _prepare(
    fit: Any, specs: str | Sequence[str], by: str | Sequence[str] | None, at: Any
) -> tuple[RefGrid, list[str], list[str]]:
    spec_names, by_names = _names(specs, "specs"), _names(by, "by")
    if not spec_names:
        raise MixedFitError("specs must name at least one factor (or a covariate given in at=)")
    overlap = set(spec_names) & set(by_names)
    if overlap:
        raise MixedFitError(f"{sorted(overlap)} appear in both specs and by; give each once")
    return reference_grid(fit, at, spec_names + by_names), spec_names, by_names


def emmeans(
    fit: Any,
    specs: str | Sequence[str],
    at: Mapping[str, Any] | None = None,
    by: str | Sequence[str] | None = None,
    ddf: str = "kenward-roger",
    level: float = 0.95,
) -> pd.DataFrame:
    """Estimated marginal means (emmeans' ``emmeans(fit, specs, by = by, at = at)``).

    Parameters
    ----------
    fit : MixedModelFit or ResidualModelFit
    specs : str or list of str
        The factors (or covariates listed in ``at``) whose cells get a mean; several give the
        means of their combinations, the first varying fastest (as emmeans).
    at : mapping, optional
        Covariate values (a number or a list) or a subset of a factor's levels.
    by : str or list of str, optional
        Factors whose levels index separate groups of means (the index's last levels).
    ddf : {"kenward-roger", "satterthwaite", "asymptotic"}
    level : float
        Confidence level of ``lower``/``upper`` (t quantiles with ``df``, unadjusted).

    Returns
    -------
    pandas.DataFrame
        Indexed by the levels (a MultiIndex with several variables or ``by``); columns
        ``emmean, se, df, lower, upper``.
    """
    _check_level(level)
    method = _ddf(ddf)
    ref, spec_names, by_names = _prepare(fit, specs, by, at)
    cells, L = emm_matrix(ref, spec_names + by_names)
    est, se, df = _estimate(fit, L, method)
    crit = scipy.stats.t.isf((1 - level) / 2, df)
    out = pd.DataFrame(
        {"emmean": est, "se": se, "df": df, "lower": est - crit * se, "upper": est + crit * se},
        index=_index(cells),
    )
    return out


def _poly(k: int) -> tuple[np.ndarray, list[str]]:
    """emmeans' ``poly.emmc``: orthogonal polynomials of degree 1..min(6, k-1), scaled to
    integers."""
    x = np.arange(1, k + 1, dtype=float)
    x -= x.mean()
    degree = min(6, k - 1)
    cols: list[np.ndarray] = [np.ones(k)]
    for d in range(1, degree + 1):  # monic orthogonal polynomials (positive leading term)
        v = x**d
        for c in cols:
            v = v - (c @ v) / (c @ c) * c
        cols.append(v)
    rows = []
    for con in cols[1:]:
        con = con / np.min(con[con > 0.01 * np.linalg.norm(con)])
        z = np.max(np.abs(con - np.round(con)))
        while z > 0.05:
            con = con / z
            z = np.max(np.abs(con - np.round(con)))
        rows.append(np.round(con))
    return np.array(rows), _POLY_NAMES[:degree]


def _method_matrix(method: Any, labels: list[str]) -> tuple[np.ndarray, list[str], bool]:
    """Contrast coefficients (n_contrasts, k), their labels, and whether all pairwise."""
    k = len(labels)
    if isinstance(method, str):
        if method == "pairwise":
            pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
            C = np.zeros((len(pairs), k))
            for r, (i, j) in enumerate(pairs):
                C[r, i], C[r, j] = 1.0, -1.0
            return C, [f"{labels[i]} - {labels[j]}" for i, j in pairs], True
        if method == "trt.vs.ctrl":
            C = np.zeros((k - 1, k))
            C[:, 0] = -1.0
            C[np.arange(k - 1), np.arange(1, k)] = 1.0
            return C, [f"{labels[j]} - {labels[0]}" for j in range(1, k)], False
        if method == "poly":
            if k < 2:
                raise MixedFitError("poly contrasts need at least two levels")
            C, names = _poly(k)
            return C, names, False
        raise MixedFitError(
            f"method must be 'pairwise', 'trt.vs.ctrl', 'poly', a matrix or a dict of "
            f"coefficient lists, not {method!r}"
        )
    if isinstance(method, pd.DataFrame):
        C, names = method.to_numpy(dtype=float), [str(i) for i in method.index]
    elif isinstance(method, Mapping):
        names = [str(n) for n in method]
        C = np.array([np.asarray(v, dtype=float) for v in method.values()])
    else:
        C = np.atleast_2d(np.asarray(method, dtype=float))
        names = [f"c{i + 1}" for i in range(C.shape[0])]
    if C.ndim != 2 or C.shape[1] != k:
        raise MixedFitError(
            f"each contrast needs {k} coefficients, one per mean ({labels}); got shape {C.shape}"
        )
    return C, names, False


def _adjustment(adjust: str | None, method: Any, pairwise: bool) -> str:
    if adjust is None:
        return _DEFAULT_ADJUST.get(method, "none") if isinstance(method, str) else "none"
    key = str(adjust).strip().lower()
    if key not in ADJUSTMENTS:
        raise MixedFitError(f"adjust must be one of {list(ADJUSTMENTS)} or None, not {adjust!r}")
    if key == "tukey" and not pairwise:  # emmeans: "only appropriate for ... pairwise"
        return "sidak"
    return key


def _contrast_rows(
    method: Any, labels: list[str], L: np.ndarray, k: int
) -> tuple[np.ndarray, list[str], list[int], bool]:
    """Rows C L of the contrasts of each group of k means: the matrix, labels, group sizes and
    whether the family is pairwise."""
    blocks, names, groups = [], [], []
    pairwise = False
    for g in range(len(labels) // k):
        C, con_names, pairwise = _method_matrix(method, labels[g * k : (g + 1) * k])
        blocks.append(C @ L[g * k : (g + 1) * k])
        names += con_names
        groups.append(len(con_names))
    return np.vstack(blocks), names, groups, pairwise


def _contrast_index(names: list[str], by_cells: pd.DataFrame, groups: list[int]) -> pd.Index:
    if by_cells.shape[1] == 0:
        return pd.Index(names, name="contrast")
    reps = by_cells.reset_index(drop=True).loc[np.repeat(np.arange(len(groups)), groups)]
    frame = pd.concat([pd.Series(names, name="contrast"), reps.reset_index(drop=True)], axis=1)
    return pd.MultiIndex.from_frame(frame)


def contrasts(
    fit: Any,
    specs: str | Sequence[str],
    method: Any = "pairwise",
    adjust: str | None = None,
    by: str | Sequence[str] | None = None,
    at: Mapping[str, Any] | None = None,
    ddf: str = "kenward-roger",
    level: float = 0.95,
) -> pd.DataFrame:
    """Contrasts of estimated marginal means (emmeans' ``contrast(emmeans(fit, specs, by = by),
    method, adjust = adjust)`` with ``infer = c(TRUE, TRUE)``).

    Parameters
    ----------
    fit, specs, at, by, ddf, level
        As :func:`emmeans`; with ``by``, each group of means is one family.
    method : {"pairwise", "trt.vs.ctrl", "poly"}, array, dict or DataFrame
        ``"pairwise"``: every first-minus-second difference (``"A - B"``); ``"trt.vs.ctrl"``:
        each level minus the first; ``"poly"``: orthogonal polynomials (integer coefficients,
        for equally spaced levels); a matrix (one row of coefficients per contrast, one column
        per mean), a dict name → coefficients or a DataFrame indexed by contrast name.
    adjust : {"tukey", "dunnettx", "sidak", "bonferroni", "holm", "none"}, optional
        Multiplicity adjustment of p-values and intervals (see :mod:`.multiplicity`); default
        as emmeans: "tukey" for pairwise, "dunnettx" for trt.vs.ctrl, "none" otherwise.
        "tukey" on a family that is not pairwise becomes "sidak" (as emmeans).

    Returns
    -------
    pandas.DataFrame
        Indexed by contrast label (with ``by``, a MultiIndex ``contrast, *by``); columns
        ``estimate, se, df, t, p, lower, upper``.
    """
    _check_level(level)
    ddf_method = _ddf(ddf)
    ref, spec_names, by_names = _prepare(fit, specs, by, at)
    cells, L = emm_matrix(ref, spec_names + by_names)
    k = int(np.prod([len(ref.levels[v]) for v in spec_names]))
    Lc, names, groups, pairwise = _contrast_rows(method, level_labels(ref, cells, spec_names), L, k)
    adj = _adjustment(adjust, method, pairwise)
    est, se, df = _estimate(fit, Lc, ddf_method)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = est / se
    p, crit = np.empty(len(t)), np.empty(len(t))
    start = 0
    for size in groups:  # each by-group is a family
        rows = slice(start, start + size)
        p[rows], crit[rows] = adjust_family(t[rows], df[rows], adj, k, level)
        start += size
    columns = {"estimate": est, "se": se, "df": df, "t": t, "p": p}
    frame = pd.DataFrame({**columns, "lower": est - crit * se, "upper": est + crit * se})
    frame.index = _contrast_index(names, cells[by_names].iloc[::k], groups)
    frame.attrs["adjust"] = adj
    return frame
