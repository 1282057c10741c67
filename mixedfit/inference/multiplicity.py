"""Multiplicity adjustments of p-values and confidence intervals for a family of contrasts, as
emmeans 1.8 (``.adj.p.value``, ``.adj.critval``).

Public: :data:`ADJUSTMENTS`, :func:`adjust_family` (p-values and critical values of one family).

- ``"tukey"``: the studentized range with k means (``scipy.stats.studentized_range``, R's
  ``ptukey``/``qtukey``): p = P(Q_{k,df} > √2 |t|), critical value q_{k,df}(level)/√2. Only for
  one set of pairwise comparisons; otherwise emmeans (and mixedfit) use ``"sidak"``.
- ``"dunnettx"``: emmeans' approximation of Dunnett's test for n contrasts, a weighted mean of a
  Tukey and a Šidák probability, its quantile found by Brent's root finder with emmeans'
  tolerance 5e-4 (R's ``uniroot``: same algorithm and stopping rule).
- ``"sidak"``, ``"bonferroni"``, ``"holm"`` (p-values; intervals as Bonferroni, as emmeans),
  ``"none"``.

A family of one contrast is never adjusted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.stats
from scipy.optimize import brentq

__all__ = ["ADJUSTMENTS", "adjust_family"]

ADJUSTMENTS = ("tukey", "dunnettx", "sidak", "bonferroni", "holm", "none")
_SQRT2 = float(np.sqrt(2.0))
_UNIROOT_TOL = 5e-4  # emmeans' .qdunnx
_EPS = float(np.finfo(float).eps)


def _pt2(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    return np.asarray(2 * scipy.stats.t.sf(np.abs(t), df), dtype=float)


def _ptukey_upper(q: np.ndarray, k: float, df: np.ndarray) -> np.ndarray:
    return np.array(
        [scipy.stats.studentized_range.sf(qi, k, d) for qi, d in zip(q, df, strict=True)]
    )


def _pdunnx(x: float, n: int, df: float) -> float:
    """emmeans' ``.pdunnx``: P(max |T| <= x) for n contrasts with a common control, approx."""
    twt = (n - 1) / n
    tukey = scipy.stats.studentized_range.cdf(_SQRT2 * x, (1 + np.sqrt(1 + 8 * n)) / 2, df)
    sidak = scipy.stats.f.cdf(x * x, 1, df) ** n
    return float(twt * tukey + (1 - twt) * sidak)


def _qdunnx(level: float, n: int, df: float) -> float:
    """emmeans' ``.qdunnx``: root of ``.pdunnx(x) = level`` between the Tukey and Šidák values."""
    xtuk = scipy.stats.studentized_range.ppf(level, (1 + np.sqrt(1 + 8 * n)) / 2, df) / _SQRT2
    xsid = float(np.sqrt(scipy.stats.f.ppf(level ** (1 / n), 1, df)))
    if abs(xtuk - xsid) < _UNIROOT_TOL:
        return float(xtuk)
    lo, hi = sorted((float(xtuk), xsid))
    return float(
        brentq(lambda x: _pdunnx(x, n, df) - level, lo, hi, xtol=_UNIROOT_TOL, rtol=4 * _EPS)
    )


def _per_df(df: np.ndarray, quantile: Callable[[float], float]) -> np.ndarray:
    """``quantile(d)`` for each d of ``df``, computed once per df value (values equal to 1e-9
    relative are one value: the quantiles are costly, 0.4 s for the studentized range)."""
    out = np.empty(len(df))
    done: list[tuple[float, float]] = []
    for i, d in enumerate(df):
        for d0, q in done:
            if d == d0 or abs(d - d0) <= 1e-9 * abs(d0):
                out[i] = q
                break
        else:
            out[i] = quantile(float(d))
            done.append((float(d), float(out[i])))
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    n = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((n - np.arange(n)) * p[order]))
    out = np.empty(n)
    out[order] = adjusted
    return out


def adjust_family(
    t: np.ndarray, df: np.ndarray, adjust: str, n_means: int, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted two-sided p-values and critical values of one family of contrasts.

    Parameters
    ----------
    t, df : ndarray, shape (n,)
        t ratios and their df (``inf``: normal).
    adjust : str
        One of :data:`ADJUSTMENTS` (after emmeans' replacement of ``"tukey"`` by ``"sidak"``
        for families that are not all pairwise comparisons).
    n_means : int
        The number of means compared (Tukey's k).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    p, critical : ndarray, shape (n,)
        Intervals are estimate ± critical × se.
    """
    t = np.asarray(t, dtype=float)
    df = np.asarray(df, dtype=float)
    n = len(t)
    if n == 1:
        adjust = "none"
    raw = _pt2(t, df)
    if adjust == "none":
        crit = scipy.stats.t.isf((1 - level) / 2, df)
        return raw, np.asarray(crit, dtype=float)
    if adjust == "tukey":
        p = _ptukey_upper(_SQRT2 * np.abs(t), n_means, df)
        crit = _per_df(df, lambda d: scipy.stats.studentized_range.ppf(level, n_means, d)) / _SQRT2
    elif adjust == "dunnettx":
        p = np.array([1 - _pdunnx(abs(x), n, d) for x, d in zip(t, df, strict=True)])
        crit = _per_df(df, lambda d: _qdunnx(level, n, d))
    elif adjust == "sidak":
        p = 1 - (1 - raw) ** n
        crit = scipy.stats.t.isf((1 - level ** (1 / n)) / 2, df)
    elif adjust in ("bonferroni", "holm"):
        p = np.minimum(1.0, raw * n) if adjust == "bonferroni" else _holm(raw)
        crit = scipy.stats.t.isf((1 - level) / n / 2, df)
    else:  # pragma: no cover - checked by the caller
        raise ValueError(f"unknown adjustment {adjust!r}")
    return np.asarray(p, dtype=float), np.asarray(crit, dtype=float)
