"""Grouping factors: columns (or their interaction) → integer level codes and level labels.

Levels follow R's ``factor()``: a Categorical keeps its category order (unused categories
dropped), other columns are sorted. An interaction ``g1:g2`` has the observed combinations, ordered
by ``g1``'s levels then ``g2``'s, labelled ``"a:b"``. Also the checks that a grouping factor can
carry its random-effects terms, lme4's term order, and the check that new data hold no category
the fit never saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from formulaic import ModelSpec

from ..exceptions import DataError
from .frame import Column, Columns

__all__ = [
    "DIAG_HINT",
    "GroupCoding",
    "Levels",
    "categorical_levels",
    "check_levels",
    "check_new_categories",
    "code_groups",
    "encode_new_groups",
    "lme4_term_order",
    "unidentified_slopes",
]


@dataclass(frozen=True, eq=False)
class GroupCoding:
    """Levels of a grouping factor.

    Attributes
    ----------
    columns : tuple of str
        Data columns whose interaction forms the factor.
    column_values : tuple of pandas.Index
        Levels of each column as the original values (their dtype kept), in order.
    levels : tuple of str
        Labels of the factor's levels, e.g. ``("A:a", "A:b")``.
    combos : ndarray of int, shape (nlev, ncol)
        Column level codes of each factor level.
    """

    columns: tuple[str, ...]
    column_values: tuple[pd.Index, ...]
    levels: tuple[str, ...]
    combos: np.ndarray


Levels = tuple[pd.Index, tuple[str, ...]]  # a column's levels in order and their labels


def categorical_levels(column: Column) -> Levels | None:
    """A categorical column's levels (its categories) and their labels, known from its dtype
    alone; None for other columns. What :func:`code_groups` finds for the column when every
    category occurs and no value is missing."""
    if not column.categorical:
        return None
    values = pd.Index(column.categories)
    return values, tuple(map(str, values))


def _column_codes(column: Column, known: Levels | None) -> tuple[np.ndarray, pd.Index, Levels]:
    if column.categorical:
        codes = column.codes.astype(np.int64)
        if codes.min(initial=0) >= 0 and not column.has_unused:
            # every category used: codes as they are
            levels = known if known is not None else categorical_levels(column)
            assert levels is not None
            return codes, levels[0], levels
        cat = column.series.cat.remove_unused_categories()
        values = pd.Index(cat.cat.categories)
        used = cat.cat.codes.to_numpy(dtype=np.int64)
        return used, values, (values, tuple(map(str, values)))
    factorized, uniques = pd.factorize(column.series, sort=True)
    values = pd.Index(uniques)
    return factorized.astype(np.int64), values, (values, tuple(map(str, values)))


def code_groups(
    frame: pd.DataFrame | Columns,
    columns: tuple[str, ...],
    known: tuple[Levels | None, ...] | None = None,
) -> tuple[GroupCoding, np.ndarray]:
    """Code the interaction of ``columns`` (no missing values expected).

    Parameters
    ----------
    frame : pandas.DataFrame or Columns
    columns : tuple of str
    known : tuple, optional
        Per column, its :func:`categorical_levels` if already known for this very dtype (a
        design plan keeps them), else None.

    Returns
    -------
    coding : GroupCoding
    refs : ndarray of int, shape (n,)
        Level code of each row.
    """
    table = Columns.of(frame)
    known = known or (None,) * len(columns)
    per_col = [_column_codes(table[c], k) for c, k in zip(columns, known, strict=True)]
    if len(per_col) == 1:  # one column: its codes, all levels used (see _column_codes)
        codes, values, (_, labels) = per_col[0]
        combos = np.arange(len(values), dtype=np.int64)[:, None]
        return GroupCoding(tuple(columns), (values,), labels, combos), codes
    combos, refs = _combine([codes for codes, _, _ in per_col], [len(v) for _, v, _ in per_col])
    pieces = [
        np.asarray(lv, dtype=object)[combos[:, j]] for j, (_, _, (_, lv)) in enumerate(per_col)
    ]
    labels = tuple(map(":".join, zip(*pieces, strict=True)))
    coding = GroupCoding(tuple(columns), tuple(values for _, values, _ in per_col), labels, combos)
    return coding, refs


_DENSE_KEYS = 50_000_000  # key spaces up to this size are compacted by counting, not sorting


def _combine(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Observed combinations of several level codes, in lexicographic order, and each row's
    combination index. O(n) by counting when the key space is small."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    space = 1
    for c, size in zip(codes, sizes, strict=True):
        key = key * size + c
        space *= size
    if space <= _DENSE_KEYS:
        present = np.bincount(key, minlength=space) > 0
        rank = np.cumsum(present) - 1
        used, refs = np.flatnonzero(present), rank[key]
    else:
        used, refs = np.unique(key, return_inverse=True)
    combos = np.empty((len(used), len(codes)), dtype=np.int64)
    for j in reversed(range(len(codes))):
        combos[:, j] = used % sizes[j]
        used = used // sizes[j]
    return combos, refs.ravel().astype(np.int64)


def encode_new_groups(coding: GroupCoding, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Level codes of new rows for a fitted grouping factor.

    Values are matched by value (so ``308`` matches ``308.0``), then by their text (so ``308``
    matches a level ``"308"``).

    Returns
    -------
    codes : ndarray of int, shape (m,)
        The level code, or -1 for a level (or combination) not in the fitted data.
    missing : ndarray of bool, shape (m,)
        True where a grouping value is missing.
    """
    m = len(data)
    codes = np.empty((m, len(coding.columns)), dtype=np.int64)
    missing = np.zeros(m, dtype=bool)
    for j, col in enumerate(coding.columns):
        if col not in data.columns:
            raise DataError(
                f"new data lack the grouping column {col!r}: add it, or pass random=False for "
                "population-level predictions (fixed effects only)"
            )
        values = pd.Series(np.asarray(data[col], dtype=object))
        missing |= values.isna().to_numpy()
        codes[:, j] = _match(coding.column_values[j], values)
    index = {tuple(row): i for i, row in enumerate(coding.combos.tolist())}
    found = np.array([index.get(tuple(row), -1) for row in codes.tolist()], dtype=np.int64)
    return np.where(missing, -1, found), missing


def _match(levels: pd.Index, values: pd.Series) -> np.ndarray:
    try:
        codes = np.asarray(levels.get_indexer(pd.Index(values)), dtype=np.int64)
    except (TypeError, ValueError):
        codes = np.full(len(values), -1, dtype=np.int64)
    unmatched = (codes < 0) & values.notna().to_numpy()
    if unmatched.any() and pd.api.types.is_numeric_dtype(levels.dtype):
        numbers = pd.to_numeric(values[unmatched], errors="coerce")
        codes[unmatched] = levels.get_indexer(pd.Index(numbers))
        unmatched = (codes < 0) & values.notna().to_numpy()
    if unmatched.any():
        by_text = {str(v): i for i, v in enumerate(levels)}
        codes[unmatched] = [by_text.get(str(v), -1) for v in values[unmatched]]
    return codes


def check_new_categories(spec: ModelSpec, data: pd.DataFrame, what: str) -> None:
    """Raise, naming the column, if new data hold a category a formulaic encoder never saw.

    Parameters
    ----------
    spec : formulaic.ModelSpec
        The fitted model spec of the fixed part or of a random-effects term.
    data : pandas.DataFrame
        New rows.
    what : str
        The part of the model, for the message (e.g. ``"fixed effects"``).
    """
    for factor, state in spec.encoder_state.items():
        info = state[1] if isinstance(state, tuple) else state
        levels = info.get("categories") if isinstance(info, dict) else None
        column = str(factor)
        if levels is None or column not in data.columns:
            continue
        values = data[column].dropna()
        seen = pd.Index(levels)
        unseen = values[seen.get_indexer(pd.Index(values)) < 0]
        unseen = unseen[~unseen.astype(str).isin(set(map(str, levels)))]
        if len(unseen):
            raise DataError(
                f"column {column!r} has level(s) {sorted(map(str, set(unseen)))[:5]} in the "
                f"new data for the {what} that were not present when the model was fit"
            )


DIAG_HINT = (
    " (lme4's rule, applied with or without residual=: beside a correlated residual structure "
    "such as mf.AR1 the heterogeneous diag term can be identified, as glmmTMB fits diag(0 + f "
    "| g) + ar1(0 + f | g) with dispformula = ~0, but mixedfit does not fit it yet; "
    "diag(..., hom=True) beside mf.AR1 is fitted, or mf.AR1(...) & mf.VarIdent(f) gives a "
    "variance per level in the residual instead)"
)
"""What the count rule's refusal of a heterogeneous ``diag`` term adds (docs/repeated-measures.md
"A random-effects term beside the structure"; review stress LOW)."""


def check_levels(group: str, source: str, nlev: int, n: int, ncol: int, hint: str = "") -> None:
    """Raise if a grouping factor cannot carry a random-effects term.

    Parameters
    ----------
    group : str
        Grouping factor name, e.g. ``"batch:cask"``.
    source : str
        The term as written.
    nlev, n, ncol : int
        Levels of the factor, observations, columns of the term.
    hint : str, optional
        Appended to the message on too many random effects (what else the term could be).

    Raises
    ------
    DataError
        A single level, as many levels as observations, or more random effects than
        observations.
    """
    if nlev < 2:
        raise DataError(
            f"grouping factor {group!r} has a single level: a random effect needs at least two "
            f"sampled levels; drop the term {source!r} (or fit {group!r} as a fixed effect)"
        )
    if nlev >= n:
        raise DataError(
            f"grouping factor {group!r} has {nlev} levels for {n} observations; it needs fewer "
            "levels than observations (the term is confounded with the residual): drop the "
            f"term {source!r} or use a coarser grouping"
        )
    if nlev * ncol >= n:
        raise DataError(
            f"term {source!r} has {nlev * ncol} random effects for {n} observations; its "
            "variance and the residual variance are unidentifiable: drop slopes from the term "
            f"or use a coarser grouping{hint}"
        )


def unidentified_slopes(Z: np.ndarray, refs: np.ndarray) -> list[int]:
    """Columns that do not vary within any level although the factor also has an intercept.

    Within each level such a column is a multiple of the intercept column, so its random
    effect cannot be told apart from the random intercept (e.g. ``(1 + Sex | Subject)`` when
    no subject changes sex). Without an intercept column (``(0 + f | g)``) nothing is returned.

    Parameters
    ----------
    Z : ndarray, shape (n, k)
        All random-effects columns on one grouping factor (all its terms).
    refs : ndarray of int, shape (n,)
        Level code of each row.

    Returns
    -------
    list of int
        Indices of such columns (intercept columns, also a repeated one as in
        ``(1 | g) + (1 | g)``, which lme4 fits, excluded).
    """
    if Z.shape[1] < 2 or len(Z) == 0:
        return []
    is_intercept = ((Z[0] == Z).all(axis=0) & (Z[0] != 0)).tolist()
    if not any(is_intercept):
        return []
    # a column is constant within every level if it equals, on each row, its value on one
    # (any) row of the row's level
    representative = np.empty(int(refs.max()) + 1, dtype=np.intp)
    representative[refs] = np.arange(len(refs))
    constant = (Z[representative[refs]] == Z).all(axis=0).tolist()
    return [j for j, (c, i) in enumerate(zip(constant, is_intercept, strict=True)) if c and not i]


def lme4_term_order(nlevels: list[int]) -> list[int]:
    """lme4's term order (``mkReTrms``): if any term has more levels than the one before it,
    ``rev(order(nlevels))`` — decreasing levels, ties in reverse formula order; else unchanged."""
    if not any(b > a for a, b in pairwise(nlevels)):
        return list(range(len(nlevels)))
    ascending = sorted(range(len(nlevels)), key=lambda i: nlevels[i])
    return ascending[::-1]
