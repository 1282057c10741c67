"""The level combinations of grouping columns seen in pass 1 (``(1 | a:b)``, ``(1 | a/b)``), in
bounded memory.

Each column's distinct values get integer codes in the order first seen (one dict per column:
as many entries as the column has levels, which pass 1 keeps anyway); a chunk's combinations are
the unique rows of its k-column code matrix (sorted int64 codes, never a Python tuple
per row), and the chunks' unique rows are merged into one sorted int64 array when they outgrow it
(amortized O(N log N) for N combinations): 8·k bytes per combination, against a Python set's
tuple per combination (~150 bytes for two columns). Partial results merge (Dask partitions) by
recoding the other's codes into these. :meth:`ComboSet.tuples` gives the combinations as value
tuples at the end, for the prototype frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ComboSet"]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _unique_rows(codes: np.ndarray) -> np.ndarray:
    """The distinct rows of a matrix of non-negative int64 codes, in lexicographic order: packed
    into one int64 per row when the codes' ranges allow (sorted, repeats dropped), else sorted by
    ``np.lexsort``."""
    if codes.shape[0] == 0:
        return codes
    sizes = [int(c) + 1 for c in codes.max(axis=0)]
    if float(np.prod(np.array(sizes, dtype=float))) < 2.0**62:
        key = np.zeros(codes.shape[0], dtype=np.int64)
        for j, size in enumerate(sizes):
            key = key * size + codes[:, j]
        key = np.sort(key)  # then drop repeats (np.unique's hash path is slower here)
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
        out = np.empty((len(key), codes.shape[1]), dtype=np.int64)
        for j in range(codes.shape[1] - 1, -1, -1):
            key, out[:, j] = np.divmod(key, sizes[j])
        return out
    ordered = codes[np.lexsort(codes.T[::-1])]
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    return ordered[keep]


class ComboSet:
    """The distinct combinations of ``k`` columns' values.

    Parameters
    ----------
    k : int
        Number of columns.
    """

    def __init__(self, k: int) -> None:
        self.k = k
        self.values: list[list[Any]] = [[] for _ in range(k)]  # code → value, per column
        self.codes: list[dict[Any, int]] = [{} for _ in range(k)]  # value → code
        self.merged = np.zeros((0, k), dtype=np.int64)  # distinct rows, sorted
        self.pending: list[np.ndarray] = []  # chunks' distinct rows not merged yet
        self._pending_rows = 0

    def __len__(self) -> int:
        self._consolidate()
        return int(self.merged.shape[0])

    def _code(self, j: int, uniques: list[Any]) -> np.ndarray:
        """Codes of column j's values ``uniques`` (new values get new codes)."""
        table, values = self.codes[j], self.values[j]
        out = np.empty(len(uniques), dtype=np.int64)
        for i, value in enumerate(uniques):
            code = table.get(value)
            if code is None:
                code = table[value] = len(values)
                values.append(value)
            out[i] = code
        return out

    def add(self, frame: pd.DataFrame) -> None:
        """Collect the combinations of the rows of ``frame`` (its k columns, no missing
        values)."""
        if not len(frame):
            return
        local = np.empty((len(frame), self.k), dtype=np.int64)
        for j in range(self.k):
            column = frame.iloc[:, j]
            if isinstance(column.dtype, pd.CategoricalDtype):
                column = column.astype(object)
            codes, uniques = pd.factorize(column.to_numpy())
            mapping = self._code(j, [_plain(v) for v in uniques])
            local[:, j] = mapping[codes]
        self._push(_unique_rows(local))

    def _push(self, rows: np.ndarray) -> None:
        self.pending.append(rows)
        self._pending_rows += rows.shape[0]
        if self._pending_rows > max(self.merged.shape[0], 1 << 16):
            self._consolidate()

    def _consolidate(self) -> None:
        if self.pending:
            self.merged = _unique_rows(np.concatenate([self.merged, *self.pending]))
            self.pending, self._pending_rows = [], 0

    def merge(self, other: ComboSet) -> ComboSet:
        """Add ``other``'s combinations (its codes recoded into these)."""
        other._consolidate()
        maps = [self._code(j, other.values[j]) for j in range(self.k)]
        rows = np.empty_like(other.merged)
        for j in range(self.k):
            rows[:, j] = maps[j][other.merged[:, j]]
        self._push(_unique_rows(rows))
        return self

    def tuples(self) -> list[tuple[Any, ...]]:
        """The combinations as tuples of values (in no particular order)."""
        self._consolidate()
        columns = [np.asarray(self.values[j] + [None], dtype=object)[:-1] for j in range(self.k)]
        picked = [columns[j][self.merged[:, j]].tolist() for j in range(self.k)]
        return list(zip(*picked, strict=True))
