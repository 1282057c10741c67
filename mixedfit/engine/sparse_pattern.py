"""The pattern of the sparse second block M (see :mod:`.sparse`), built in batches of pairs.

M's lower triangle holds the diagonal blocks of the second term plus one entry for every pair of
its levels met by one level of the first term. The pairs of stored blocks of L₂₁ that share a
column (a level of the first term) can number 10⁸ where M has only a few million distinct
entries, so they are enumerated in batches of about :data:`PAIR_BATCH` pairs (in the order of
:func:`.blocks.column_pairs`): a first sweep collects M's distinct entries (and stops as soon as
they exceed the caller's limit: "auto" then keeps the dense block without ever holding the pair
list), a second writes each pair's position in M. Held at once: M's entries, the pair list the
plan keeps (8–16 bytes a pair) and one batch (about 50 bytes a pair), instead of some 70 bytes
for every pair (a 5.6 GB peak for the 8.2×10⁷ pairs of the 2×10⁶-row subset of the users × items
benchmark, whose analysis then chose the dense block).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

__all__ = ["PAIR_BATCH", "lower_pattern"]

PAIR_BATCH = 1 << 22  # pairs per batch (~4.2 M: some 200 MB of transient arrays)


def lower_pattern(
    q: int, k: int, rows: np.ndarray, cols: np.ndarray, max_keys: float = math.inf
) -> tuple[np.ndarray, ...] | None:
    """Keys (column-major) of M's lower triangle and where the diagonal blocks and pairs go,
    or None as soon as M has more than ``max_keys`` distinct lower-triangle entries.

    Parameters
    ----------
    q, k : int
        Order of M and columns of the second term.
    rows, cols : ndarray of int
        Block rows (levels of the second term) and block columns (of the first) of L₂₁'s stored
        blocks.
    max_keys : float

    Returns
    -------
    keys : ndarray of int64
        Sorted flat keys ``col * q + row`` (row ≥ col) of M's lower triangle.
    indptr : ndarray of int64, shape (q + 1,)
    diag_pos, pair_pos : ndarray of int
        Positions in ``keys`` of the diagonal blocks' entries and of each pair.
    e1, e2 : ndarray of int
        The pairs of stored blocks (as :func:`.blocks.column_pairs`: rows[e2] ≥ rows[e1]).
    entries : ndarray of int
        Where each diagonal entry sits in a k×k block.
    """
    a, b = np.tril_indices(k)
    levels = np.arange(q // k, dtype=np.int64)[:, None]
    diag_keys = ((levels * k + b) * q + (levels * k + a)).ravel()
    rows64 = rows.astype(np.int64)
    order, lengths, cuts = _batches(cols, rows)
    keys = _distinct_keys(diag_keys, rows64, q, order, lengths, cuts, max_keys)
    if keys is None:
        return None
    index = np.int32 if len(keys) < np.iinfo(np.int32).max else np.int64
    pair_index = np.int32 if len(rows) < np.iinfo(np.int32).max else np.int64
    total = int(lengths.sum())
    e1 = np.empty(total, dtype=pair_index)
    e2 = np.empty(total, dtype=pair_index)
    pair_pos = np.empty(total, dtype=index)
    done = 0
    for first, second in _pairs(order, lengths, cuts):
        end = done + len(first)
        e1[done:end], e2[done:end] = first, second
        pair_pos[done:end] = np.searchsorted(keys, _keys(rows64, q, first, second))
        done = end
    diag_pos = np.searchsorted(keys, diag_keys).astype(index)
    indptr = np.zeros(q + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // q, minlength=q), out=indptr[1:])
    return keys, indptr, diag_pos, pair_pos, e1, e2, (a * k + b)


def _batches(cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored blocks sorted by column then row (``order``), the number of pairs each starts
    (itself and the later blocks of its column), and the batch boundaries (positions)."""
    order = np.lexsort((rows, cols))
    keys = cols[order]
    n = len(keys)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], n]
    lengths = np.repeat(ends, ends - starts) - np.arange(n)
    cum = np.cumsum(lengths)
    total = int(cum[-1]) if n else 0
    marks = np.arange(PAIR_BATCH, total, PAIR_BATCH, dtype=np.int64)
    cuts = np.unique(np.r_[0, np.searchsorted(cum, marks, side="right"), n])
    return order, lengths, cuts


def _pairs(
    order: np.ndarray, lengths: np.ndarray, cuts: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The pairs (e1, e2) of each batch, in the order of :func:`.blocks.column_pairs`."""
    for lo, hi in itertools.pairwise(cuts.tolist()):
        counts = lengths[lo:hi]
        first = np.repeat(np.arange(lo, hi), counts)
        second = np.arange(len(first))
        second -= np.repeat(np.cumsum(counts) - counts, counts)
        second += first
        e1 = order[first]
        del first
        yield e1, order[second]


def _keys(rows: np.ndarray, q: int, e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """The flat keys ``rows[e1] * q + rows[e2]`` of pairs (int64)."""
    keys = rows[e1]
    keys *= q
    keys += rows[e2]
    return keys


def _distinct_keys(
    diag_keys: np.ndarray,
    rows: np.ndarray,
    q: int,
    order: np.ndarray,
    lengths: np.ndarray,
    cuts: np.ndarray,
    max_keys: float,
) -> np.ndarray | None:
    """M's sorted distinct keys, or None once more than ``max_keys`` of them are seen."""
    keys = np.unique(diag_keys)
    pending: list[np.ndarray] = []
    size = 0
    for first, second in _pairs(order, lengths, cuts):
        part = np.unique(_keys(rows, q, first, second))
        pending.append(part)
        size += len(part)
        if len(part) > max_keys:
            return None
        if size >= max(len(keys), PAIR_BATCH):  # merge: amortized, and the limit checked
            keys = np.unique(np.concatenate([keys, *pending]))
            pending, size = [], 0
            if len(keys) > max_keys:
                return None
    if pending:
        keys = np.unique(np.concatenate([keys, *pending]))
    return None if len(keys) > max_keys else keys
