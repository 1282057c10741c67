"""Cross products per stratum of a column (:class:`StratifiedCrossProducts`), for residual
variance functions that are constant within strata (``mf.VarIdent(by)``).

With R = σ² diag(δ_s(i)²) the whitened cross products are a weighted sum of the strata's,
A(φ) = Σ_s w_s A_s with w_s = δ_s⁻², and log |Λ_R| = Σ_s n_s log δ_s²: the statistics are
additive over rows and chunks, so pass 2 sums one set of cross products per stratum and every
evaluation combines them (no row is read again). X and y of every stratum are centred at the
means over all rows (unweighted, as the in-memory residual criterion centres them), a shift
that is linear in the sums, so the strata's centred sums add up.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..design import Design
from ..design.build import _used_columns
from ..exceptions import DataError, MixedFitError
from ..formula import ModelFormula, parse_formula
from .accumulate import CrossProductSums
from .crossproducts import (
    CrossProducts,
    _run,
    check_offset_column,
    finish,
    load_cross_products,
    new_pass1,
    new_sums,
    prototype_design,
)
from .encode import ChunkArrays, ChunkEncoder
from .levels import Pass1
from .progress import Reporter
from .refrow import ReferenceRow
from .sources import ChunkSource
from .store import read_cross_products, save_cross_products

__all__ = [
    "StratifiedCrossProducts",
    "assemble",
    "compute_stratified",
    "load_stratified",
    "stratified_step",
    "stratum_pass1",
]


@dataclass
class Stratum:
    """One stratum's cross products, centred at the means over all rows."""

    n: int
    diag: list[np.ndarray]
    pairs: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]
    fixed: list[np.ndarray]
    xy: np.ndarray


@dataclass
class StratifiedCrossProducts:
    """The cross products of all rows (:attr:`total`, as :func:`mixedfit.crossproducts` gives
    them) and of each stratum of the column :attr:`by`.

    Attributes
    ----------
    total : CrossProducts
    by : str
    labels : list of str
        The strata (levels of ``by``) in the in-memory structure's order.
    reference : int
        nlme's reference level (multiplier 1), the in-memory fit's (:mod:`.refrow`).
    strata : list of Stratum
    """

    total: CrossProducts
    by: str
    labels: list[str]
    reference: int
    strata: list[Stratum]

    def __post_init__(self) -> None:
        self._union: dict[tuple[int, int], tuple[np.ndarray, list[np.ndarray]]] = {}
        for key, (keys, _) in self.total.pairs.items():
            where = [np.searchsorted(keys, s.pairs[key][0]) for s in self.strata]
            self._union[key] = (keys, where)

    def at(self, weights: np.ndarray) -> CrossProducts:
        """The cross products of the rows weighted by ``weights`` per stratum (w_s = δ_s⁻²),
        with Σ_s n_s log w_s as the log weights."""
        w = np.asarray(weights, dtype=float)
        first = self.strata[0]
        diag = [np.zeros_like(d) for d in first.diag]
        fixed = [np.zeros_like(f) for f in first.fixed]
        xy = np.zeros_like(first.xy)
        pairs = {}
        for key, (keys, where) in self._union.items():
            data = np.zeros((len(keys), *first.pairs[key][1].shape[1:]))
            for ws, stratum, idx in zip(w, self.strata, where, strict=True):
                data[idx] += ws * stratum.pairs[key][1]
            pairs[key] = (keys, data)
        for ws, stratum in zip(w, self.strata, strict=True):
            for mine, theirs in zip(diag, stratum.diag, strict=True):
                mine += ws * theirs
            for mine, theirs in zip(fixed, stratum.fixed, strict=True):
                mine += ws * theirs
            xy += ws * stratum.xy
        counts = np.array([s.n for s in self.strata], dtype=float)
        log_weights = float(np.sum(counts * np.log(w)))
        # the same prototype design (its list is shared: built once)
        return replace(
            self.total, diag=diag, pairs=pairs, fixed=fixed, xy=xy, log_weights=log_weights
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to ``path`` (the total's file with the strata's sums; load it with
        :func:`mixedfit.load_crossproducts` and fit with ``mf.lmer(formula, scp,
        residual=mf.VarIdent(by))``)."""
        arrays: dict[str, np.ndarray] = {}
        for s, stratum in enumerate(self.strata):
            arrays[f"{s}_xy"] = stratum.xy
            for i, (d, f) in enumerate(zip(stratum.diag, stratum.fixed, strict=True)):
                arrays[f"{s}_diag_{i}"], arrays[f"{s}_fixed_{i}"] = d, f
            for (i, j), (keys, data) in stratum.pairs.items():
                arrays[f"{s}_pairkeys_{i}_{j}"], arrays[f"{s}_pairdata_{i}_{j}"] = keys, data
        count = [s.n for s in self.strata]
        info = {"by": self.by, "labels": self.labels, "reference": self.reference}
        save_cross_products(self.total, path, {**info, "count": count, "arrays": arrays})


def load_stratified(
    path: str | os.PathLike[str], trust: bool = False
) -> CrossProducts | StratifiedCrossProducts:
    """What :meth:`CrossProducts.save` or :meth:`StratifiedCrossProducts.save` wrote to
    ``path`` (checked as :func:`.crossproducts.load_cross_products`)."""
    total = load_cross_products(path, trust=trust)
    info = read_cross_products(path).get("strata")
    if info is None:
        return total
    try:
        arrays, strata = info["arrays"], []
        for s, n in enumerate(info["count"]):
            K = len(total.diag)
            pairs = {
                key: (
                    arrays[f"{s}_pairkeys_{key[0]}_{key[1]}"],
                    arrays[f"{s}_pairdata_{key[0]}_{key[1]}"],
                )
                for key in total.pairs
            }
            diag = [arrays[f"{s}_diag_{i}"] for i in range(K)]
            fixed = [arrays[f"{s}_fixed_{i}"] for i in range(K)]
            strata.append(Stratum(int(n), diag, pairs, fixed, arrays[f"{s}_xy"]))
        return StratifiedCrossProducts(
            total, str(info["by"]), [str(v) for v in info["labels"]], int(info["reference"]), strata
        )
    except (KeyError, TypeError, ValueError) as err:
        raise MixedFitError(
            f"{os.fspath(path)!r}: the saved sums per stratum are incomplete ({err}); compute "
            "them again"
        ) from None


def _take(arrays: ChunkArrays, rows: np.ndarray) -> ChunkArrays:
    return ChunkArrays(
        arrays.y[rows],
        arrays.X[rows],
        [r[rows] for r in arrays.refs],
        [Z[rows] for Z in arrays.Z],
        None if arrays.w is None else arrays.w[rows],
    )


def _codes(values: pd.Series, index: pd.Index, by: str) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    codes = np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)
    if np.any(codes < 0):
        raise DataError(
            f"the stratum column {by!r} has a level the first pass did not see (the source "
            "changed between the passes); fit again"
        )
    return codes


def compute_stratified(
    formula: str,
    source: Any,
    by: str,
    chunk_rows: int = 1_000_000,
    progress: Reporter | None = None,
    offset: str | None = None,
) -> StratifiedCrossProducts:
    """Both passes over ``source`` with one set of sums per level of the column ``by`` (rows
    missing ``by`` are dropped, as in memory).

    Raises
    ------
    DataError
        ``by`` is not a column of the source; as :func:`.crossproducts.compute_cross_products`.
    """
    parsed = parse_formula(formula)
    src = ChunkSource(source, chunk_rows)
    columns = src.columns()
    if by not in columns:
        raise DataError(
            f"the VarIdent column {by!r} is not in the data; available columns: "
            f"{sorted(map(str, columns))}"
        )
    used = _used_columns(parsed, pd.DataFrame(columns=columns), {"np": np})
    used = used + check_offset_column(offset, columns, used)
    used = used + ([] if by in used else [by])
    pass1 = stratum_pass1(parsed, used, by, offset)
    _run("pass 1", src.chunks(used), pass1.add, progress)
    frame = pass1.prototype()
    design = prototype_design(parsed, frame, pass1.transforms.states())
    levels = pass1.ordered_levels(by)
    encoder = ChunkEncoder(design.spec, pass1.columns, None, offset)
    sums = [new_sums(design, encoder, pass1) for _ in levels]
    first = ReferenceRow.for_design(design.spec)
    step = stratified_step(pass1.columns, by, levels, encoder, sums, pass1.check_schema, first)
    chunks = _run("pass 2", src.chunks(used), step, progress)
    return assemble(formula, pass1, design, frame, by, levels, sums, chunks, first)


def stratum_pass1(parsed: ModelFormula, used: list[str], by: str, offset: str | None) -> Pass1:
    """Empty pass-1 statistics that also collect the levels of the stratum column ``by``."""
    pass1 = new_pass1(parsed, used, None, offset)
    pass1.groups.add(by)
    return pass1


def assemble(
    formula: str,
    pass1: Pass1,
    design: Design,
    frame: pd.DataFrame,
    by: str,
    levels: list[Any],
    sums: list[CrossProductSums],
    chunks: int,
    first: ReferenceRow | None = None,
) -> StratifiedCrossProducts:
    """The :class:`StratifiedCrossProducts` of both passes (``sums``: one per level of
    ``by``; ``first``: pass 2's reference row, the in-memory fit's reference level; without it
    the stratum of the first row used); DataError as :func:`.crossproducts.finish`."""
    index = pd.Index(levels, dtype=object)
    total = copy.deepcopy(sums[0])
    for part in sums[1:]:
        total.merge(part)
    total.chunks = chunks
    cp = finish(formula, pass1, design, total, frame)
    assert pass1.sample is not None  # rows were used (finish checked)
    reference = int(_codes(pass1.sample[by].iloc[:1], index, by)[0])
    if first is not None:
        reference = first.reference(reference)
    delta = None
    if cp.intercept is not None:  # the means over all rows (as finish centres the total)
        delta = total.column_sums(cp.intercept) / total.weight_sum
        delta[cp.intercept] = 0.0
    strata = [_centred(s, cp.intercept, delta) for s in sums]
    return StratifiedCrossProducts(cp, by, [str(v) for v in levels], reference, strata)


def stratified_step(
    columns: list[str],
    by: str,
    levels: list[Any],
    encoder: ChunkEncoder,
    sums: list[CrossProductSums],
    check_schema: Callable[[pd.DataFrame, str], None],
    first: ReferenceRow | None = None,
) -> Callable[[pd.DataFrame], None]:
    """Adds a chunk's complete rows to the sums of their levels of ``by`` (and to ``first``,
    the reference row's statistics)."""
    index = pd.Index(levels, dtype=object)

    def step(chunk: pd.DataFrame) -> None:
        check_schema(chunk, "between the passes")
        arrays = encoder.encode(chunk)
        if arrays is None:
            return
        complete = ~chunk[columns].isna().any(axis=1).to_numpy()
        strata = _codes(chunk.loc[complete, by], index, by)
        if first is not None:
            first.add(arrays.refs, strata)
        for s in np.unique(strata):
            sums[s].add(_take(arrays, np.flatnonzero(strata == s)))

    return step


def _centred(sums: CrossProductSums, j0: int | None, delta: np.ndarray | None) -> Stratum:
    if j0 is None or delta is None:
        fixed, xy = [f.copy() for f in sums.fixed], sums.xy.copy()
    else:
        fixed, xy = sums.centred_at(j0, delta)
    pairs = {key: (pair.keys, pair.data) for key, pair in sums.pairs.items()}
    return Stratum(sums.n, sums.diag, pairs, fixed, xy)
