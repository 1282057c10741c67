"""Can the data carry a structure? The visit checks of issue 12's error list.

Each check reads the time codes (positions or levels) and subject codes of the rows the model
uses and raises a :class:`~mixedfit.exceptions.DataError` naming the time column when a
parameter of the structure is not identified by them: a Toeplitz lag or an ante-dependence step
no subject spans, an ARMA(p, q) with more parameters than the data have lags, or a time level
seen in one subject only where that level has parameters of its own (Unstructured,
heterogeneous AnteDependence, heterogeneous Toeplitz: the likelihood is unbounded there, as the
one row is fitted exactly while its conditional variance goes to 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError
from .binding import (
    check_unique_times,
    code_column,
    integer_positions,
    lag_hint,
    require_integer,
    require_pairs,
)

__all__ = [
    "check_arma_lags",
    "check_by_levels",
    "check_lags",
    "check_level_support",
    "check_spans",
    "levels",
    "positions",
    "sparse_level_hint",
]

_WHAT_TO_DO = (
    "drop that level's rows, merge it with a neighbouring visit, or use a structure with fewer "
    "parameters per visit (e.g. CompoundSymmetry(heterogeneous=True) or AR1(heterogeneous=True))"
)


def positions(
    label: str, frame: pd.DataFrame, time: str, subject: np.ndarray, names: list[str], sc: str
) -> tuple[np.ndarray, list[str]]:
    """Integer time positions (gaps kept) of AR1, ARMA and Toeplitz, checked: one row per
    subject and time, some subject with two rows (``sc``: the subject column)."""
    pos, tl = integer_positions(frame, time, label)
    check_unique_times(subject, pos, time, sc, names, frame[time].to_numpy())
    require_pairs(subject, label, sc)
    return pos, tl


def levels(
    label: str, frame: pd.DataFrame, time: str, subject: np.ndarray, names: list[str], sc: str
) -> tuple[np.ndarray, list[str]]:
    """Time level per row for level-indexed structures (UN, ANTE): every level observed.

    A categorical time level without rows in the fit is refused (the issue's "a time level
    unseen in the fit": these structures give every level its own parameters; mmrm drops such
    levels, SAS never has them). A numeric time must be integer-valued (the issue's rule, as
    AR1); text is accepted by Unstructured only (AnteDependence needs an order).
    """
    col = frame[time] if time in frame.columns else None
    if col is not None and isinstance(col.dtype, pd.CategoricalDtype):
        seen = np.zeros(len(col.cat.categories), dtype=bool)
        seen[col.cat.codes.to_numpy()[col.cat.codes.to_numpy() >= 0]] = True
        if not seen.all():
            unseen = col.cat.categories[int(np.flatnonzero(~seen)[0])]
            raise DataError(
                f"the time level {str(unseen)!r} of {time!r} has no rows, so {label} cannot "
                f"estimate its parameters; remove unused categories "
                f"(frame[{time!r}] = frame[{time!r}].cat.remove_unused_categories())"
            )
    if col is not None and not isinstance(col.dtype, pd.CategoricalDtype):
        if _is_number(col):
            require_integer(np.asarray(col, dtype=float), time, label)
        elif label == "AnteDependence":
            raise DataError(
                f"{label} orders the visits by the levels of {time!r}, which holds text: make it "
                f"a pd.Categorical with the visits in order (pd.Categorical(frame[{time!r}], "
                "categories=[...], ordered=True)) or use an integer-valued visit number"
            )
    c = code_column(frame, time, "time")
    check_unique_times(subject, c.codes, time, sc, names, frame[time].to_numpy())
    require_pairs(subject, label, sc)
    return c.codes, c.labels


def _is_number(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)


def _lags(subject: np.ndarray, pos: np.ndarray, m: int) -> set[int]:
    """The lags |i − j| > 0 between two rows of some subject (``m``: positions 0..m−1)."""
    order = np.lexsort((pos, subject))
    s, t = subject[order], pos[order]
    seen = np.zeros(m, dtype=bool)
    for d in range(1, int(np.bincount(s).max(initial=0))):
        same = s[d:] == s[:-d]
        seen[t[d:][same] - t[:-d][same]] = True
    return {int(k) for k in np.flatnonzero(seen) if k > 0}


def check_lags(col: pd.Series, subject: np.ndarray, pos: np.ndarray, m: int) -> None:
    """Toeplitz: every lag 1..m−1 between two rows of some subject."""
    missing = sorted(set(range(1, m)) - _lags(subject, pos, m))
    if missing:
        raise DataError(
            f"Toeplitz has a correlation for lag {missing[0]} of {col.name!r}, but no subject "
            f"has two visits that far apart: the data have too few visits for it"
            + lag_hint(col, pos)
        )


def check_arma_lags(time: str, subject: np.ndarray, pos: np.ndarray, p: int, q: int) -> None:
    """ARMA(p, q): its p + q correlation parameters need p + q distinct lags in the data (the
    likelihood reads the correlation function at the observed lags only)."""
    seen = sorted(_lags(subject, pos, int(pos.max()) + 1))
    if p + q > len(seen):
        shown = ", ".join(str(k) for k in seen[:6]) + (", ..." if len(seen) > 6 else "")
        raise DataError(
            f"ARMA(p={p}, q={q}) has {p + q} correlation parameters, but the time column "
            f"{time!r} has {len(seen)} distinct lag{'s' if len(seen) != 1 else ''} between two "
            f"rows of a subject ({shown}): the data have too few visits for it, so its parameters "
            f"are not identified. It needs p + q distinct lags (subjects with at least "
            f"{p + q + 1} visits); use a smaller p + q (AR1 is ARMA(1, 0))"
        )


def check_spans(time: str, subject: np.ndarray, lv: np.ndarray, tl: list[str]) -> None:
    """AnteDependence: each pair of consecutive levels spanned by some subject."""
    m = len(tl)
    lo = np.full(subject.max() + 1, m)
    hi = np.full(subject.max() + 1, -1)
    np.minimum.at(lo, subject, lv)
    np.maximum.at(hi, subject, lv)
    for k in range(m - 1):
        if not np.any((lo <= k) & (hi >= k + 1)):
            raise DataError(
                f"AnteDependence has a correlation between the levels {tl[k]!r} and "
                f"{tl[k + 1]!r} of {time!r}, but no subject spans them"
            )


def check_level_support(
    label: str,
    time: str,
    subject: np.ndarray,
    lv: np.ndarray,
    tl: list[str],
    names: list[str],
    sc: str,
    toeplitz: bool = False,
) -> None:
    """DataError for a level seen in one subject only when it has parameters of its own: always
    for Unstructured and heterogeneous AnteDependence (its variance and the covariances or
    adjacent correlations only its rows carry); for heterogeneous Toeplitz (``toeplitz``,
    ``lv`` positions) when some lag is then seen only in pairs with that row."""
    m = len(tl)
    pairs = np.unique(np.column_stack([lv, subject]), axis=0)
    count = np.bincount(pairs[:, 0], minlength=m)
    for k in np.flatnonzero(count == 1):
        s = int(pairs[pairs[:, 0] == k, 1][0])
        if toeplitz:
            keep = ~((subject == s) & (lv == k))
            lost = sorted(set(range(1, m)) - _lags(subject[keep], lv[keep], m))
            if not lost:
                continue
            what = f"its variance and the lag-{lost[0]} correlation, which only pairs with it carry"
        else:
            what = "its variance and " + (
                "covariances" if label == "Unstructured" else "correlations with adjacent levels"
            )
        raise DataError(
            f"the level {tl[k]!r} of the time column {time!r} has rows of one subject only "
            f"({names[s]!r} of {sc!r}), so {label} cannot estimate {what} (the likelihood grows "
            f"without bound as that row is fitted exactly): {_WHAT_TO_DO}"
        )


def check_by_levels(
    label: str,
    time: str,
    by: str,
    lv: np.ndarray,
    tl: list[str],
    group: np.ndarray,
    group_labels: list[str],
) -> None:
    """Level-indexed structures with ``by=``: each group has its own parameters for every time
    level of the fit, so each group needs rows at every level."""
    for g, name in enumerate(group_labels):
        absent = sorted(set(range(len(tl))) - set(lv[group == g].tolist()))
        if absent:
            raise DataError(
                f"in the level {name!r} of the by column {by!r}: the time level "
                f"{tl[absent[0]]!r} of {time!r} has no rows, so {label} cannot estimate its "
                f"parameters in that group; drop those levels' rows or fit without by="
            )


def sparse_level_hint(
    label: str, time: str, subject: np.ndarray, lv: np.ndarray, tl: list[str]
) -> str | None:
    """A hint for a fit that failed its convergence checks (review rv13 LOW-1): the time level
    of Unstructured with the fewest subjects for its parameters, when it has at most twice as
    many subjects as its variance and covariances with the levels seen beside it (a level in
    one subject is refused: :func:`check_level_support`). Its conditional variance given those
    levels is then estimated from that few subjects, less the fixed effects' share, and can be
    fitted exactly (the likelihood growing without bound, the Hessian singular); the hint says
    so and what to do. None when every level has more subjects."""
    pairs = np.unique(np.column_stack([lv, subject]), axis=0)
    worst: tuple[float, int, int, int] | None = None
    for k in range(len(tl)):
        subs = pairs[pairs[:, 0] == k, 1]
        if not len(subs):
            continue
        seen = np.unique(pairs[np.isin(pairs[:, 1], subs), 0])
        params = len(seen)  # its variance and a covariance with each other level seen beside it
        if len(subs) <= 2 * params and (worst is None or len(subs) / params < worst[0]):
            worst = (len(subs) / params, k, len(subs), params)
    if worst is None:
        return None
    _, k, n_k, params = worst
    return (
        f". The level {tl[k]!r} of the time column {time!r} has rows of {n_k} subjects only, "
        f"for its variance and {params - 1} covariances under {label}: its conditional variance "
        f"may be fitted exactly (the likelihood then grows without bound): {_WHAT_TO_DO}"
    )
