"""A chunk of rows → the model's arrays (y − offset, X, and each term's level codes and columns),
encoded with the recipe of the prototype design (:mod:`.levels`) as prediction encodes new data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..design import DesignSpec
from ..design import validation as v
from ..design.groups import GroupCoding
from ..design.spec import materialize, new_matrix
from ..exceptions import DataError

__all__ = ["ChunkArrays", "ChunkEncoder", "chunk_weights"]


@dataclass(frozen=True)
class ChunkArrays:
    """The arrays of one chunk's complete rows (terms in the design's order)."""

    y: np.ndarray
    X: np.ndarray
    refs: list[np.ndarray]
    Z: list[np.ndarray]
    w: np.ndarray | None = None


def chunk_weights(chunk: pd.DataFrame, complete: np.ndarray, name: str) -> np.ndarray:
    """The prior weights (column ``name``) of a chunk's complete rows, checked as in memory:
    numbers, none missing on a row the model uses, all positive and finite."""
    w_all = v.numbers(name, chunk, "weights")
    assert w_all is not None
    v.check_missing_weights(w_all, ~complete, name, chunk.index)
    return v.check_weights(w_all[complete], name)


class ChunkEncoder:
    """Encodes chunks with a design's recipe.

    Parameters
    ----------
    spec : DesignSpec
        Of the prototype design.
    columns : list of str
        The columns the model uses (rows missing any are dropped, as in memory).
    weights : str, optional
        The column of prior weights.
    offset : str, optional
        A column of offsets (``lmer(..., offset="o")``), subtracted from y as the formula's
        ``offset()`` terms; it must be one of ``columns`` (a missing offset drops its row).
    """

    def __init__(
        self,
        spec: DesignSpec,
        columns: list[str],
        weights: str | None = None,
        offset: str | None = None,
    ) -> None:
        self.spec = spec
        self.columns = columns
        self.weights = weights
        self.offset = offset
        self.response = spec.formula.response

    def encode(self, chunk: pd.DataFrame) -> ChunkArrays | None:
        """The chunk's arrays, or None if none of its rows is complete.

        Raises
        ------
        DataError
            A level or category pass 1 did not see (the source changed between the passes), or
            a value that is not finite.
        """
        frame = chunk[self.columns]
        complete = ~frame.isna().any(axis=1).to_numpy()
        w = None if self.weights is None else chunk_weights(chunk, complete, self.weights)
        frame = frame.loc[complete]
        if not len(frame):
            return None
        frame = frame.reset_index(drop=True)
        spec = self.spec
        if self.response in frame.columns:
            y = frame[self.response].to_numpy(dtype=float)
        else:
            y = np.asarray(
                materialize(f"{self.response} ~ 1", frame, spec.context, "the response").lhs,
                dtype=float,
            ).ravel()
        y = y - self.offsets(frame)
        X = spec.fixed_matrix(frame)
        refs, Zs = [], []
        for term in spec.terms:
            Z = new_matrix(
                term.spec, frame, f"random-effects term {term.term.source!r}", spec.context
            )
            refs.append(group_codes(term.coding, frame, term.term.group_name))
            Zs.append(np.ascontiguousarray(Z, dtype=float))
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(X))):
            raise DataError(
                "an infinite or undefined value in the response, the offset or the fixed effects "
                "of a chunk; remove or fix those rows"
            )
        return ChunkArrays(y, np.ascontiguousarray(X), refs, Zs, w)

    def offsets(self, frame: pd.DataFrame) -> np.ndarray:
        """The offset of complete rows: the formula's ``offset()`` terms plus the offset
        column (DataError if it does not hold numbers)."""
        off = self.spec.offset(frame)
        if self.offset is not None:
            column = v.numbers(self.offset, frame, "offset")
            assert column is not None
            off = off + column
        return off


def group_codes(coding: GroupCoding, frame: pd.DataFrame, name: str) -> np.ndarray:
    """Level codes of the rows (vectorized); DataError for a level pass 1 did not see."""
    codes = []
    for j, col in enumerate(coding.columns):
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        c = np.asarray(coding.column_values[j].get_indexer(pd.Index(values)), dtype=np.int64)
        if np.any(c < 0):
            bad = values.to_numpy()[np.flatnonzero(c < 0)[0]]
            raise DataError(
                f"grouping factor {name!r}: level {bad!r} was not seen in the first pass (the "
                "source changed between the passes, or a chunk holds a level the others lack); "
                "compute the cross products again"
            )
        codes.append(c)
    if len(codes) == 1:
        return codes[0]
    sizes = [len(v) for v in coding.column_values]
    key = np.zeros(len(frame), dtype=np.int64)
    known = np.zeros(len(coding.combos), dtype=np.int64)
    for j, (c, size) in enumerate(zip(codes, sizes, strict=True)):
        key = key * size + c
        known = known * size + coding.combos[:, j]
    pos = np.searchsorted(known, key)  # combos are in lexicographic order
    pos = np.minimum(pos, len(known) - 1)
    if np.any(known[pos] != key):
        raise DataError(
            f"grouping factor {name!r}: a combination of levels was not seen in the first pass; "
            "compute the cross products again"
        )
    return pos.astype(np.int64)
