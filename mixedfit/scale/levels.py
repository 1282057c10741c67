"""Pass 1 over a source: the rows the model uses, the levels of every non-numeric column, the
schema, and a prototype frame that carries the design's recipe.

The design's recipe (formulaic's encodings of categorical columns, the grouping factors' levels,
the fixed-effects column names) is built by :func:`~mixedfit.design.build_design` on a
*prototype frame*: every level of every categorical or grouping column (in the order the
in-memory fit would give them: categories in order, otherwise sorted), numeric columns drawn
from the first complete rows. Its arrays are never used; pass 2 encodes each chunk with the
recipe as prediction encodes new data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..design import validation as v
from ..exceptions import DataError
from .combos import ComboSet
from .encode import chunk_weights
from .transforms import TransformCalls

__all__ = ["SAMPLE_ROWS", "Pass1", "column_kind", "interaction_components"]

SAMPLE_ROWS = 2_000  # complete rows kept for the prototype's numeric columns
PROTOTYPE_FACTOR = 4  # prototype rows per level of the largest factor (terms of ≤ 3 columns)


def column_kind(series: pd.Series) -> str:
    """``"number"``, ``"bool"``, ``"category"`` or ``"text"``: what the schema check compares."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "text"


@dataclass
class Pass1:
    """Pass-1 statistics, summed chunk by chunk (:meth:`add`) or merged (:meth:`merge`, in a
    fixed order: Dask partitions).

    Parameters
    ----------
    columns : list of str
        The columns the model uses.
    groups : set of str
        The grouping columns (their levels are collected even when numeric).
    components : list of tuple of str
        Sets of grouping columns whose observed combinations are collected (the columns of
        grouping factors that are interactions, such as ``a:b``, joined where they share one;
        see :func:`interaction_components`).
    transforms : TransformCalls
        The stateful transforms whose statistics are collected (:mod:`.transforms`).
    weights : str, optional
        The column of prior weights (checked on the rows the model uses, as in memory).
    offset : str, optional
        The column of offsets (one of ``columns``: a missing offset drops its row, as in
        memory; it must hold numbers).
    """

    columns: list[str]
    groups: set[str]
    components: list[tuple[str, ...]] = field(default_factory=list)
    transforms: TransformCalls = field(default_factory=TransformCalls)
    weights: str | None = None
    offset: str | None = None
    combos: dict[tuple[str, ...], ComboSet] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    levels: dict[str, set[Any]] = field(default_factory=dict)
    categories: dict[str, list[Any] | None] = field(default_factory=dict)
    n_rows: int = 0
    n_used: int = 0
    sample: pd.DataFrame | None = None

    def level_columns(self) -> list[str]:
        return [
            c
            for c in self.columns
            if c in self.groups or (self.kinds[c] != "number" and c != self.offset)
        ]

    def check_schema(self, chunk: pd.DataFrame, where: str = "") -> None:
        """Raise DataError if a column's kind differs from the one first seen."""
        for c in self.columns:
            kind = column_kind(chunk[c])
            known = self.kinds.setdefault(c, kind)
            if kind != known and chunk[c].notna().any():
                raise DataError(
                    f"column {c!r} changed type {where}: {known} before, {kind} now; the source "
                    "must keep one schema (and must not change between the two passes)"
                )

    def add(self, chunk: pd.DataFrame) -> None:
        """Count a chunk's rows, collect its levels and keep its first complete rows."""
        self.check_schema(chunk)
        frame = chunk[self.columns]
        mask = ~frame.isna().any(axis=1).to_numpy()
        if self.weights is not None:
            chunk_weights(chunk, mask, self.weights)
        complete = frame.loc[mask]
        if self.offset is not None:
            v.numbers(self.offset, complete, "offset")  # DataError for text, as in memory
        self.n_rows += len(chunk)
        self.n_used += len(complete)
        for c in self.level_columns():
            col = complete[c]
            self.levels.setdefault(c, set()).update(pd.unique(col.to_numpy()).tolist())
            if isinstance(col.dtype, pd.CategoricalDtype):
                cats = list(col.cat.categories)
                if self.categories.setdefault(c, cats) != cats:
                    self.categories[c] = None  # categories differ between chunks: sorted
        for cols in self.components:
            self.combos.setdefault(cols, ComboSet(len(cols))).add(complete[list(cols)])
        self.transforms.add(complete)
        have = 0 if self.sample is None else len(self.sample)
        if have < SAMPLE_ROWS and len(complete):
            take = complete.iloc[: SAMPLE_ROWS - have]
            self.sample = take if self.sample is None else pd.concat([self.sample, take])

    def merge(self, other: Pass1) -> Pass1:
        """The statistics of this source followed by ``other``'s."""
        for c, kind in other.kinds.items():
            if self.kinds.setdefault(c, kind) != kind:
                raise DataError(
                    f"column {c!r} has type {self.kinds[c]} in one part, {kind} in another"
                )
        for c, values in other.levels.items():
            self.levels.setdefault(c, set()).update(values)
        for c, cats in other.categories.items():
            if self.categories.setdefault(c, cats) != cats:
                self.categories[c] = None
        for cols, combos in other.combos.items():
            self.combos.setdefault(cols, ComboSet(len(cols))).merge(combos)
        self.transforms.merge(other.transforms)
        self.n_rows += other.n_rows
        self.n_used += other.n_used
        if other.sample is not None:
            have = 0 if self.sample is None else len(self.sample)
            take = other.sample.iloc[: max(SAMPLE_ROWS - have, 0)]
            self.sample = take if self.sample is None else pd.concat([self.sample, take])
        return self

    def ordered_levels(self, column: str) -> list[Any]:
        """A column's levels in the in-memory fit's order."""
        values = self.levels.get(column, set())
        cats = self.categories.get(column)
        if cats is not None:
            return [c for c in cats if c in values]
        try:
            return sorted(values)
        except TypeError:
            return sorted(values, key=str)

    def prototype(self, seed: int = 0) -> pd.DataFrame:
        """The prototype frame (see the module docstring); DataError if no row is complete."""
        if self.sample is None or not len(self.sample):
            raise DataError(f"no rows left: every row has a missing value in one of {self.columns}")
        rng = np.random.default_rng(seed)
        sizes = [len(self.levels.get(c, ())) for c in self.level_columns()]
        sizes += [len(v) for v in self.combos.values()]
        m = max(len(self.sample), PROTOTYPE_FACTOR * max(sizes, default=0) + 64)
        joint: dict[str, np.ndarray] = {}
        for cols, seen in self.combos.items():  # exactly the observed combinations
            combos = sorted(seen.tuples(), key=str)
            table = np.empty((len(combos), len(cols)), dtype=object)
            table[:] = combos
            rows = rng.permutation(np.resize(np.arange(len(combos)), m))
            joint.update({c: table[rows, j] for j, c in enumerate(cols)})
        out: dict[str, Any] = {}
        for c in self.columns:
            if c in self.levels:
                levels = self.ordered_levels(c)
                values = joint.get(c)
                if values is None:
                    values = rng.permutation(np.resize(np.asarray(levels, dtype=object), m))
                if self.kinds[c] == "category":
                    out[c] = pd.Categorical(values, categories=levels)
                else:
                    out[c] = pd.Series(values).astype(self.sample[c].dtype).to_numpy()
            else:
                out[c] = rng.choice(self.sample[c].to_numpy(), m)
        return pd.DataFrame(out)


def interaction_components(groups: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The columns of the grouping factors that are interactions (``a:b``), joined into sets
    where two share a column (``a:b`` and ``a:c`` → ``(a, b, c)``), each in first-seen order."""
    parts: list[list[str]] = []
    for group in groups:
        if len(group) < 2:
            continue
        touching = [p for p in parts if set(p) & set(group)]
        merged = [c for p in touching for c in p]
        merged += [c for c in group if c not in merged]
        parts = [p for p in parts if p not in touching] + [merged]
    return [tuple(p) for p in parts]
