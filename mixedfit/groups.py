"""Grouping factors: columns (or their interaction) → integer level codes and level labels.

Levels follow R's ``factor()``: a Categorical keeps its category order (unused categories
dropped), other columns are sorted. An interaction ``g1:g2`` has the observed combinations, ordered
by ``g1``'s levels then ``g2``'s, labelled ``"a:b"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GroupCoding", "code_groups", "encode_new_groups"]


@dataclass(frozen=True)
class GroupCoding:
    """Levels of a grouping factor.

    Attributes
    ----------
    columns : tuple of str
        Data columns whose interaction forms the factor.
    column_levels : tuple of tuple of str
        Levels of each column (as strings), in order.
    levels : tuple of str
        Labels of the factor's levels, e.g. ``("A:a", "A:b")``.
    combos : ndarray of int, shape (nlev, ncol)
        Column level codes of each factor level.
    """

    columns: tuple[str, ...]
    column_levels: tuple[tuple[str, ...], ...]
    levels: tuple[str, ...]
    combos: np.ndarray


def _column_codes(series: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        cat = series.cat.remove_unused_categories()
        return cat.cat.codes.to_numpy(dtype=np.int64), tuple(map(str, cat.cat.categories))
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.int64), tuple(map(str, uniques))


def code_groups(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[GroupCoding, np.ndarray]:
    """Code the interaction of ``columns`` (no missing values expected).

    Returns
    -------
    coding : GroupCoding
    refs : ndarray of int, shape (n,)
        Level code of each row.
    """
    per_col = [_column_codes(frame[c]) for c in columns]
    combos, refs = _combine([codes for codes, _ in per_col], [len(lv) for _, lv in per_col])
    labels = tuple(
        ":".join(per_col[j][1][code] for j, code in enumerate(row)) for row in combos.tolist()
    )
    coding = GroupCoding(tuple(columns), tuple(lv for _, lv in per_col), labels, combos)
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


def encode_new_groups(coding: GroupCoding, data: pd.DataFrame) -> np.ndarray:
    """Level codes of new rows for a fitted grouping factor.

    Returns
    -------
    ndarray of int, shape (m,)
        The level code, or -1 where the level (or combination) was not in the fitted data or a
        value is missing.
    """
    m = len(data)
    codes = np.empty((m, len(coding.columns)), dtype=np.int64)
    for j, col in enumerate(coding.columns):
        if col not in data.columns:
            raise KeyError(f"new data lack the grouping column {col!r}")
        lookup = {lv: i for i, lv in enumerate(coding.column_levels[j])}
        values = data[col]
        strings = values.astype(object).where(values.notna(), None)
        codes[:, j] = [lookup.get(str(v), -1) if v is not None else -1 for v in strings]
    index = {tuple(row): i for i, row in enumerate(coding.combos.tolist())}
    return np.array([index.get(tuple(row), -1) for row in codes.tolist()], dtype=np.int64)
