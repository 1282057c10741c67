"""Pass 2: the cross products A = [Z X y]'[Z X y] summed chunk by chunk, in a fixed order.

Blocks are kept in the factor's block order (most random effects first, as
:class:`~mixedfit.engine.factor.BlockedFactor`): per term the k×k blocks of its levels, per pair
of terms the k_i×k_j blocks of the level pairs that occur (sorted keys, merged chunk by chunk),
per term [X y]'Z_i, and [X y]'[X y]. With prior weights every product is weighted, A =
[Z X y]'W[Z X y], and the sums of the weights and of their logarithms are kept. X and y are
shifted by a fixed vector (the means of the first complete rows; the intercept column is not
shifted) so that the sums do not cancel; the exact
centring with the means over all rows is applied at the end (:meth:`CrossProductSums.centred`),
a small correction, as :func:`~mixedfit.engine.reparam.centre_fixed` centres in memory.
Sums are done in chunk order and, within a chunk, in row order: the same chunks give the same
bits; other chunk sizes agree to rounding (~1e-15 relative per sum).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .encode import ChunkArrays

__all__ = ["CrossProductSums", "PairSums"]


@dataclass
class PairSums:
    """Sums over the level pairs (key = level_i · nlev_j + level_j) of two terms."""

    keys: np.ndarray
    data: np.ndarray  # (len(keys), k_i, k_j)

    def add(self, keys: np.ndarray, data: np.ndarray) -> None:
        """Merge sums for ``keys`` (new keys appended in sorted order)."""
        allkeys = np.concatenate([self.keys, keys])
        merged, inv = np.unique(allkeys, return_inverse=True)
        inv = inv.ravel()
        values = np.concatenate([self.data, data])
        out = np.zeros((len(merged), *self.data.shape[1:]))
        for a in range(out.shape[1]):
            for b in range(out.shape[2]):
                out[:, a, b] = np.bincount(inv, weights=values[:, a, b], minlength=len(merged))
        self.keys, self.data = merged, out


@dataclass
class CrossProductSums:
    """Running sums of A, in block order.

    Parameters
    ----------
    nlev, k : list of int
        Levels and columns of each term, in block order.
    order : list of int
        Block position → index of the term in the design's order.
    shift : ndarray, shape (p + 1,)
        Subtracted from every row of [X y] before it is summed (0 at the intercept column).
    intercept : float
        The value of the intercept column (where there is one).
    """

    nlev: list[int]
    k: list[int]
    order: list[int]
    shift: np.ndarray
    intercept: float = 1.0
    n: int = 0
    chunks: int = 0
    weight_sum: float = 0.0  # Σ w (the row count without weights)
    log_weights: float = 0.0  # Σ log w

    def __post_init__(self) -> None:
        K, p1 = len(self.nlev), len(self.shift)
        self.diag = [np.zeros((m, k, k)) for m, k in zip(self.nlev, self.k, strict=True)]
        self.pairs = {
            (i, j): PairSums(np.zeros(0, np.int64), np.zeros((0, self.k[i], self.k[j])))
            for i in range(K)
            for j in range(i)
        }
        self.fixed = [np.zeros((p1, m * k)) for m, k in zip(self.nlev, self.k, strict=True)]
        self.xy = np.zeros((p1, p1))
        self.counts = [np.zeros(m, dtype=np.int64) for m in self.nlev]  # rows per level

    def add(self, arrays: ChunkArrays) -> None:
        """Add a chunk's cross products."""
        U = np.column_stack([arrays.X, arrays.y]) - self.shift
        refs = [arrays.refs[t] for t in self.order]
        Zs = [arrays.Z[t] for t in self.order]
        self.n += U.shape[0]
        if arrays.w is None:
            self.weight_sum += U.shape[0]
        else:  # rows scaled by √w, as the in-memory factor (engine.lmm.weighted_factor)
            sw = np.sqrt(arrays.w)
            U = U * sw[:, None]
            Zs = [Z * sw[:, None] for Z in Zs]
            self.weight_sum += float(np.sum(arrays.w))
            self.log_weights += float(np.sum(np.log(arrays.w)))
        for i, (r, Z) in enumerate(zip(refs, Zs, strict=True)):
            m, k = self.nlev[i], self.k[i]
            self.counts[i] += np.bincount(r, minlength=m)
            for a in range(k):
                for b in range(a + 1):
                    v = np.bincount(r, weights=Z[:, a] * Z[:, b], minlength=m)
                    self.diag[i][:, a, b] += v
                    if a != b:
                        self.diag[i][:, b, a] += v
            rows = self.fixed[i].reshape(U.shape[1], m, k)
            for c in range(U.shape[1]):
                for b in range(k):
                    rows[c, :, b] += np.bincount(r, weights=U[:, c] * Z[:, b], minlength=m)
            for j in range(i):
                key = r.astype(np.int64) * self.nlev[j] + refs[j]
                keys, inv = np.unique(key, return_inverse=True)
                inv = inv.ravel()
                data = np.empty((len(keys), k, self.k[j]))
                for a in range(k):
                    for b in range(self.k[j]):
                        data[:, a, b] = np.bincount(
                            inv, weights=Z[:, a] * Zs[j][:, b], minlength=len(keys)
                        )
                self.pairs[i, j].add(keys, data)
        self.xy += U.T @ U

    def merge(self, other: CrossProductSums) -> CrossProductSums:
        """These sums followed by ``other``'s (same shift): Dask's tree reduction."""
        if not np.array_equal(self.shift, other.shift):
            raise ValueError("cross products with different shifts cannot be merged")
        self.n += other.n
        self.weight_sum += other.weight_sum
        self.log_weights += other.log_weights
        self.chunks += other.chunks
        for mine, theirs in zip(self.diag, other.diag, strict=True):
            mine += theirs
        for rows, more in zip(self.fixed, other.fixed, strict=True):
            rows += more
        for count, extra in zip(self.counts, other.counts, strict=True):
            count += extra
        for key, pair in self.pairs.items():
            pair.add(other.pairs[key].keys, other.pairs[key].data)
        self.xy += other.xy
        return self

    def centred(self, j0: int | None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """[X y]'Z_i per term and [X y]'[X y] of the rows centred at their means over all rows
        (weighted means with prior weights, as :func:`~mixedfit.engine.reparam.centre_fixed`;
        the intercept column j0 kept), and those means (0 at j0); without an intercept column
        (j0 None) the sums as they are, shifted by nothing, and a zero mean."""
        p1 = len(self.shift)
        if j0 is None:
            return [f.copy() for f in self.fixed], self.xy.copy(), np.zeros(p1)
        delta = self.column_sums(j0) / self.weight_sum
        delta[j0] = 0.0
        fixed, xy = self.centred_at(j0, delta)
        return fixed, xy, self.shift + delta

    def column_sums(self, j0: int) -> np.ndarray:
        """Σ_rows w·[X y] of the shifted rows (row j0 of [X y]'W[X y] over the intercept's
        value)."""
        return self.xy[j0] / float(self.intercept)

    def centred_at(self, j0: int, delta: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """[X y]'Z_i per term and [X y]'[X y] of these rows shifted further by ``delta`` (0 at
        j0): linear in the sums, so sums of parts (strata) centred at one ``delta`` add up."""
        v = float(self.intercept)
        total = self.column_sums(j0)
        xy = (
            self.xy
            - np.outer(total, delta)
            - np.outer(delta, total)
            + self.weight_sum * np.outer(delta, delta)
        )
        # Z_i'W 1 is row j0 of [X y]'W Z_i over v
        fixed = [f - np.outer(delta, f[j0] / v) for f in self.fixed]
        return fixed, xy
