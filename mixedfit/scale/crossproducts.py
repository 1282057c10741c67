"""The statistics of a model on a source (:class:`CrossProducts`) and the two passes that compute
them (:func:`compute_cross_products`)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..design import Design, build_design
from ..design.build import _used_columns
from ..design.groups import check_levels
from ..engine.blocks import Block, BlockDiag, BlockSparse
from ..engine.crossprod import densify
from ..engine.reparam import FixedCentring, _intercept_column
from ..exceptions import DataError, FormulaError, MixedFitError, RankDeficiencyWarning
from ..formula import ModelFormula, parse_formula
from ..formula.safety import check_safe_formula
from .accumulate import CrossProductSums
from .columns import check_offset_column, check_weights_column
from .encode import ChunkEncoder
from .levels import Pass1, interaction_components
from .progress import Event, Reporter
from .sources import ChunkSource
from .store import read_cross_products, save_cross_products
from .transforms import TransformCalls, apply_states

__all__ = [
    "CrossProducts",
    "compute_cross_products",
    "load_cross_products",
    "prototype_design",
]


@dataclass
class CrossProducts:
    """A = [Z X y]'[Z X y] of a model on all rows of a source, centred (see :mod:`.accumulate`),
    and what is needed to fit from it: the row count and the prototype frame that rebuilds
    the design's recipe (names, levels). Save with :meth:`save`, fit with ``mf.lmer(formula,
    cp)``.

    Attributes
    ----------
    formula : str
    frame : pandas.DataFrame
        The prototype frame (its arrays are not the data).
    n, n_dropped : int
        Rows used, and rows dropped for a missing value.
    diag, pairs, fixed, xy
        The blocks of A in block order (per term, per pair of terms as sorted keys and data, [X
        y]'Z per term, [X y]'[X y]).
    means : ndarray, shape (p + 1,)
        The means the columns of X and y were centred at (0 at the intercept column).
    intercept : int or None
        The intercept column (None: not centred).
    intercept_value : float
    chunks : int
        Chunks read in pass 2.
    transform_state : dict
        The state of every stateful transform (``scale(x)``, ``poly(x, 2)``) fitted over all
        rows in pass 1, by formulaic's key (see :mod:`.transforms`).
    weights : str or None
        The column of prior weights: A is [Z X y]'W[Z X y].
    log_weights : float
        Σ log w over the rows used (0 without weights).
    counts : list of ndarray
        Rows per level of each term, in block order (the moment start's usable levels; empty
        for cross products saved before they were kept).
    offset : str or None
        The column of offsets given as ``offset=`` (subtracted from y before the sums).
    """

    formula: str
    frame: pd.DataFrame
    n: int
    n_dropped: int
    diag: list[np.ndarray]
    pairs: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]
    fixed: list[np.ndarray]
    xy: np.ndarray
    means: np.ndarray
    intercept: int | None
    intercept_value: float
    chunks: int
    transform_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    weights: str | None = None
    log_weights: float = 0.0
    counts: list[np.ndarray] = field(default_factory=list)
    offset: str | None = None
    _design: list[Design] = field(default_factory=list, repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"CrossProducts({self.formula!r}, n={self.n}, n_dropped={self.n_dropped}, "
            f"p={self.xy.shape[0] - 1}, levels={[d.shape[0] for d in self.diag]})"
        )

    @property
    def design(self) -> Design:
        """The prototype design (its recipe: names, levels; not its arrays)."""
        if not self._design:
            self._design.append(
                prototype_design(parse_formula(self.formula), self.frame, self.transform_state)
            )
        return self._design[0]

    def blocks(self) -> tuple[dict[tuple[int, int], Block], dict[tuple[int, int], bool]]:
        """Copies of A's blocks in block order and which terms are nested in which, as
        :func:`~mixedfit.engine.crossprod.cross_products` returns them."""
        K = len(self.diag)
        A: dict[tuple[int, int], Block] = {(K, K): self.xy.copy()}
        nested: dict[tuple[int, int], bool] = {}
        sizes = [(d.shape[0], d.shape[1]) for d in self.diag]
        for i in range(K):
            A[i, i] = BlockDiag(self.diag[i].copy())
            A[K, i] = self.fixed[i].copy()
            for j in range(i):
                keys, data = self.pairs[i, j]
                nlev_j = sizes[j][0]
                block = BlockSparse(
                    keys // nlev_j,
                    keys % nlev_j,
                    data.copy(),
                    (sizes[i][0] * sizes[i][1], nlev_j * sizes[j][1]),
                )
                nested[i, j] = len(keys) == nlev_j
                A[i, j] = densify(block)
        return A, nested

    def fixed_map(self) -> FixedCentring | None:
        """The map from the centred fixed effects to β (None without an intercept column)."""
        if self.intercept is None:
            return None
        p = self.xy.shape[0] - 1
        j0, v = self.intercept, self.intercept_value
        M = np.eye(p)
        M[j0, :] -= self.means[:p] / v
        c = np.zeros(p)
        c[j0] = self.means[p] / v
        return FixedCentring(M, c)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to ``path`` (JSON + npz in one file, no pickle; see
        :func:`mixedfit.load_crossproducts`)."""
        save_cross_products(self, path)


def load_cross_products(path: str | os.PathLike[str], trust: bool = False) -> CrossProducts:
    """Cross products saved with :meth:`CrossProducts.save`.

    The stored formula is rebuilt on the stored prototype frame, which evaluates it: unless
    ``trust`` is True it must first pass safe mode (:func:`mixedfit.formula.safety.
    check_safe_formula`, on the frame's columns), so a file evaluates nothing safe mode refuses.

    Raises
    ------
    MixedFitError
        Not such a file, another version, an array or manifest that was changed, a formula that
        safe mode refuses (without ``trust=True``), or a recipe that no longer rebuilds (the
        formula does not fit the stored frame or arrays).
    """
    fields = read_cross_products(path)
    fields.pop("strata", None)  # per-stratum sums: see .strata.load_stratified
    cp = CrossProducts(**fields)
    if not trust:
        try:
            check_safe_formula(cp.formula, list(cp.frame.columns))
        except FormulaError as err:
            raise MixedFitError(
                f"{os.fspath(path)!r}: the stored formula is refused by safe mode ({err}); load "
                "it with trust=True only if you trust the file's origin"
            ) from None
    try:
        design = cp.design
    except (ValueError, KeyError, TypeError) as err:
        raise MixedFitError(
            f"{os.fspath(path)!r}: the saved model does not rebuild: {err}"
        ) from None
    if len(design.spec.terms) != len(cp.diag) or design.X.shape[1] != cp.xy.shape[0] - 1:
        raise MixedFitError(
            f"{os.fspath(path)!r} is not a valid mixedfit cross-products file (the formula "
            "does not match the arrays); compute the cross products again"
        )
    return cp


def prototype_design(
    formula: ModelFormula, frame: pd.DataFrame, states: dict[str, dict[str, Any]] | None = None
) -> Design:
    """The design of ``formula`` on the prototype frame, with the stateful transforms' ``states``
    (fitted over all rows in pass 1) in its recipe; DataError if its recipe would differ from
    the in-memory fit's (aliased columns), FormulaError for a transform fitted to the data that
    ``states`` lacks."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RankDeficiencyWarning)
        try:
            design = build_design(formula, frame)
        except RankDeficiencyWarning:
            raise DataError(
                f"the fixed effects of {formula.text!r} have aliased columns; drop them from the "
                "formula to fit from cross products"
            ) from None
    specs = [design.spec.fixed_spec, *(t.spec for t in design.spec.terms)]
    apply_states(specs, states or {}, formula.text)
    return design


def compute_cross_products(
    formula: str,
    source: Any,
    chunk_rows: int = 1_000_000,
    progress: Reporter | Callable[[str, int, int], None] | None = None,
    weights: str | None = None,
    offset: str | None = None,
) -> CrossProducts:
    """Pass 1 (levels, counts, missing values) and pass 2 (A, chunk by chunk) over a source.

    Parameters
    ----------
    formula : str
    source : str, path, pandas.DataFrame, pyarrow Table or Dataset, or DuckDB relation
        See :class:`.sources.ChunkSource`.
    chunk_rows : int
        Rows per chunk (memory ~ chunk_rows × the used columns).
    progress : Reporter or callable, optional
        Told of each chunk and of the end of each pass (:mod:`.progress`); a callable is
        called after each chunk with (pass name, chunks done, rows done).
    weights : str, optional
        A column of prior weights (positive; a missing weight on a row the model uses is an
        error, as in memory).
    offset : str, optional
        A column of offsets (a missing offset drops its row, as in memory).

    Raises
    ------
    FormulaError, DataError
        As :func:`mixedfit.lmer`, and for what a streamed fit does not support (grouping by an
        interaction, transforms fitted to the data), a schema or level set that changes
        between the passes.
    """
    if progress is not None and not isinstance(progress, Reporter):
        progress = Reporter(callback=_chunk_callback(progress))
    parsed = parse_formula(formula)
    src = ChunkSource(source, chunk_rows)
    columns = src.columns()
    used = _used_columns(parsed, pd.DataFrame(columns=columns), {"np": np})
    used = used + check_offset_column(offset, columns, used)
    read = used + check_weights_column(weights, columns, used)
    pass1 = new_pass1(parsed, used, weights, offset)
    _run("pass 1", src.chunks(read), pass1.add, progress)
    frame = pass1.prototype()
    design = prototype_design(parsed, frame, pass1.transforms.states())
    sums = _pass2(design, read, src, pass1, progress)
    return finish(formula, pass1, design, sums, frame)


def _chunk_callback(call: Callable[[str, int, int], None]) -> Callable[[Event], None]:
    def on_event(event: Event) -> None:
        if not event.done:
            call(event.stage, event.count, event.rows)

    return on_event


def new_pass1(
    parsed: ModelFormula, used: list[str], weights: str | None = None, offset: str | None = None
) -> Pass1:
    """Empty pass-1 statistics of a model: its grouping columns, the combinations of those
    that form interactions, its stateful transforms, its weights and offset columns."""
    groups = [t.group for t in parsed.random]
    return Pass1(
        used,
        {g for group in groups for g in group},
        interaction_components(groups),
        TransformCalls.of(parsed),
        weights,
        offset,
    )


def _run(
    name: str,
    chunks: Iterable[pd.DataFrame],
    step: Callable[[pd.DataFrame], Any],
    progress: Reporter | None,
) -> int:
    count = rows = 0
    for chunk in chunks:
        step(chunk)
        count += 1
        rows += len(chunk)
        if progress is not None:
            progress.chunk(name, count, rows)
    if progress is not None:
        progress.done(name)
    return count


def new_sums(design: Design, encoder: ChunkEncoder, pass1: Pass1) -> CrossProductSums:
    """Empty sums shifted by the means of pass 1's first complete rows (the same for any
    chunking; see :mod:`.accumulate`)."""
    assert pass1.sample is not None  # the prototype was built from it
    first = ChunkEncoder(encoder.spec, encoder.columns, None, encoder.offset).encode(
        pass1.sample
    )  # no weights
    assert first is not None  # complete rows
    first_X, first_y = first.X, first.y
    nlev = [len(t.levels) for t in design.spec.terms]
    ks = [t.Z.shape[1] for t in design.terms]
    order = sorted(range(len(nlev)), key=lambda i: -nlev[i] * ks[i])
    j0 = _intercept_column(design.X)
    shift = np.concatenate([first_X.mean(axis=0), [first_y.mean()]])
    value = 1.0
    if j0 is None:
        shift[:] = 0.0
    else:
        shift[j0] = 0.0
        value = float(design.X[0, j0])
    return CrossProductSums(
        [nlev[t] for t in order], [ks[t] for t in order], order, shift, intercept=value
    )


def _pass2(
    design: Design,
    used: list[str],
    src: ChunkSource,
    pass1: Pass1,
    progress: Reporter | None,
) -> CrossProductSums:
    encoder = ChunkEncoder(design.spec, pass1.columns, pass1.weights, pass1.offset)

    sums = new_sums(design, encoder, pass1)

    def step(chunk: pd.DataFrame) -> None:
        pass1.check_schema(chunk, "between the passes")
        arrays = encoder.encode(chunk)
        if arrays is not None:
            sums.add(arrays)

    sums.chunks = _run("pass 2", src.chunks(used), step, progress)
    return sums


def finish(
    formula: str, pass1: Pass1, design: Design, sums: CrossProductSums, frame: pd.DataFrame
) -> CrossProducts:
    """The :class:`CrossProducts` of the two passes; DataError if they saw different rows or
    the fixed effects are aliased over all rows."""
    if sums.n != pass1.n_used:
        raise DataError(
            f"the first pass used {pass1.n_used} rows, the second {sums.n}: the source changed "
            "between the passes"
        )
    for spec, term in zip(design.spec.terms, design.terms, strict=True):
        check_levels(spec.name, spec.term.source, len(spec.levels), sums.n, term.Z.shape[1])
    j0 = _intercept_column(design.X)
    fixed, xy, means = sums.centred(j0)
    p = xy.shape[0] - 1
    try:
        np.linalg.cholesky(xy[:p, :p])
    except np.linalg.LinAlgError:
        raise DataError(
            f"the fixed effects of {formula!r} are aliased (rank deficient) over all rows; "
            "drop the aliased columns from the formula"
        ) from None
    pairs = {key: (pair.keys, pair.data) for key, pair in sums.pairs.items()}
    return CrossProducts(
        formula,
        frame,
        sums.n,
        pass1.n_rows - pass1.n_used,
        sums.diag,
        pairs,
        fixed,
        xy,
        means,
        j0,
        sums.intercept,
        sums.chunks,
        pass1.transforms.states(),
        pass1.weights,
        sums.log_weights,
        sums.counts,
        pass1.offset,
    )
