"""Both passes on a Dask DataFrame: each partition is reduced where it lives (on the workers of
a ``distributed`` cluster, or dask's local scheduler), the partial statistics merged by a
pairwise tree in partition order (so the result depends on the partitioning only through
rounding: 1 or N partitions agree to ~1e-15 relative).

Categories are never taken per partition: pass 1 collects each partition's observed values
(categorical columns with unknown categories included) and the levels are fixed once, from all
of them, before pass 2. Workers receive only picklable payloads (the formula text and the
prototype frame) and rebuild the design's recipe from them, once per process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..formula import parse_formula
from .accumulate import CrossProductSums
from .crossproducts import (
    CrossProducts,
    check_offset_column,
    check_weights_column,
    compute_cross_products,
    finish,
    new_pass1,
    new_sums,
    prototype_design,
)
from .encode import ChunkEncoder
from .levels import Pass1
from .progress import Reporter
from .refrow import ReferenceRow
from .strata import StratifiedCrossProducts, assemble, stratified_step, stratum_pass1

__all__ = [
    "any_cross_products",
    "dask_cross_products",
    "dask_stratified",
    "is_dask_frame",
    "tree_reduce",
]

_RECIPES: dict[str, tuple[Any, ChunkEncoder]] = {}  # per process: token → (design, encoder)


def is_dask_frame(data: Any) -> bool:
    """True for a Dask DataFrame (without importing dask)."""
    return type(data).__module__.startswith("dask") and hasattr(data, "to_delayed")


def tree_reduce(items: list[Any], merge: Callable[[Any, Any], Any]) -> Any:
    """Delayed pairwise merges, left to right, level by level (a fixed tree)."""
    from dask import delayed

    if not items:
        raise ValueError("nothing to reduce")
    while len(items) > 1:
        nxt = [
            delayed(merge)(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
            for i in range(0, len(items), 2)
        ]
        items = nxt
    return items[0]


def _pass1_part(
    part: pd.DataFrame,
    formula: str,
    columns: list[str],
    weights: str | None,
    offset: str | None = None,
) -> Pass1:
    state = new_pass1(parse_formula(formula), columns, weights, offset)
    state.add(part)
    return state


def _merge_pass1(a: Pass1, b: Pass1) -> Pass1:
    return a.merge(b)


def _recipe(
    formula: str,
    frame: pd.DataFrame,
    columns: list[str],
    states: dict[str, Any],
    weights: str | None,
    offset: str | None = None,
) -> tuple[Any, ChunkEncoder]:
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    token = formula + digest.hexdigest() + repr(states) + repr(weights) + repr(offset)
    if token not in _RECIPES:
        design = prototype_design(parse_formula(formula), frame, states)
        _RECIPES.clear()
        _RECIPES[token] = (design, ChunkEncoder(design.spec, columns, weights, offset))
    return _RECIPES[token]


def _pass2_part(
    part: pd.DataFrame,
    formula: str,
    frame: pd.DataFrame,
    columns: list[str],
    template: Pass1,
    shift: np.ndarray,
    states: dict[str, Any],
) -> CrossProductSums:
    template.check_schema(part, "between the passes")
    design, encoder = _recipe(formula, frame, columns, states, template.weights, template.offset)
    sums = new_sums(design, encoder, template)
    if not np.array_equal(sums.shift, shift):
        raise RuntimeError("a worker computed another shift than the client")
    arrays = encoder.encode(part)
    if arrays is not None:
        sums.add(arrays)
    sums.chunks = 1
    return sums


def _merge_sums(a: CrossProductSums, b: CrossProductSums) -> CrossProductSums:
    return a.merge(b)


def dask_cross_products(
    formula: str,
    ddf: Any,
    weights: str | None = None,
    progress: Reporter | None = None,
    offset: str | None = None,
) -> CrossProducts:
    """:func:`.crossproducts.compute_cross_products` on a Dask DataFrame, one partition per
    task; partial results pickled back and merged by :func:`tree_reduce`. ``progress`` is told
    the end of each pass (a pass is one Dask computation)."""
    import dask
    from dask import delayed

    from ..design.build import _used_columns

    parsed = parse_formula(formula)
    columns = [str(c) for c in ddf.columns]
    used = _used_columns(parsed, pd.DataFrame(columns=columns), {"np": np})
    used = used + check_offset_column(offset, columns, used)
    read = used + check_weights_column(weights, columns, used)
    new_pass1(parsed, used)  # refuses what a stream cannot fit, before any partition is read
    groups = {g for t in parsed.random for g in t.group}
    parts = ddf[read].to_delayed()
    pass1 = dask.compute(
        tree_reduce(
            [delayed(_pass1_part)(p, formula, used, weights, offset) for p in parts], _merge_pass1
        )
    )[0]
    _passed(progress, "pass 1", len(parts), pass1.n_rows)
    frame = pass1.prototype()
    states = pass1.transforms.states()
    design, encoder = _recipe(formula, frame, used, states, weights, offset)
    shift = new_sums(design, encoder, pass1).shift
    template = Pass1(
        used,
        groups,
        kinds=dict(pass1.kinds),
        sample=pass1.sample,
        weights=weights,
        offset=offset,
    )
    tasks = [delayed(_pass2_part)(p, formula, frame, used, template, shift, states) for p in parts]
    sums = dask.compute(tree_reduce(tasks, _merge_sums))[0]
    _passed(progress, "pass 2", len(parts), pass1.n_rows)
    return finish(formula, pass1, design, sums, frame)


def _pass1_strata(
    part: pd.DataFrame, formula: str, columns: list[str], by: str, offset: str | None
) -> Pass1:
    state = stratum_pass1(parse_formula(formula), columns, by, offset)
    state.add(part)
    return state


def _pass2_strata(
    part: pd.DataFrame,
    formula: str,
    frame: pd.DataFrame,
    columns: list[str],
    template: Pass1,
    states: dict[str, Any],
    by: str,
    levels: list[Any],
) -> tuple[list[CrossProductSums], ReferenceRow]:
    template.check_schema(part, "between the passes")
    design, encoder = _recipe(formula, frame, columns, states, None, template.offset)
    sums = [new_sums(design, encoder, template) for _ in levels]
    first = ReferenceRow.for_design(design.spec)
    stratified_step(columns, by, levels, encoder, sums, template.check_schema, first)(part)
    return sums, first


def _merge_strata(
    a: tuple[list[CrossProductSums], ReferenceRow], b: tuple[list[CrossProductSums], ReferenceRow]
) -> tuple[list[CrossProductSums], ReferenceRow]:
    return [x.merge(y) for x, y in zip(a[0], b[0], strict=True)], a[1].merge(b[1])


def dask_stratified(
    formula: str,
    ddf: Any,
    by: str,
    progress: Reporter | None = None,
    offset: str | None = None,
) -> StratifiedCrossProducts:
    """:func:`.strata.compute_stratified` on a Dask DataFrame: per partition one set of sums
    per level of ``by`` (the levels fixed from pass 1 over all partitions), merged level by
    level by :func:`tree_reduce`."""
    import dask
    from dask import delayed

    from ..design.build import _used_columns
    from ..exceptions import DataError

    parsed = parse_formula(formula)
    columns = [str(c) for c in ddf.columns]
    if by not in columns:
        raise DataError(
            f"the VarIdent column {by!r} is not in the data; available columns: {sorted(columns)}"
        )
    used = _used_columns(parsed, pd.DataFrame(columns=columns), {"np": np})
    used = used + check_offset_column(offset, columns, used)
    used = used + ([] if by in used else [by])
    parts = ddf[used].to_delayed()
    pass1 = dask.compute(
        tree_reduce(
            [delayed(_pass1_strata)(p, formula, used, by, offset) for p in parts], _merge_pass1
        )
    )[0]
    _passed(progress, "pass 1", len(parts), pass1.n_rows)
    frame = pass1.prototype()
    states = pass1.transforms.states()
    design, _ = _recipe(formula, frame, used, states, None, offset)
    levels = pass1.ordered_levels(by)
    template = Pass1(
        used, set(pass1.groups), kinds=dict(pass1.kinds), sample=pass1.sample, offset=offset
    )
    tasks = [
        delayed(_pass2_strata)(p, formula, frame, used, template, states, by, levels) for p in parts
    ]
    sums, first = dask.compute(tree_reduce(tasks, _merge_strata))[0]
    _passed(progress, "pass 2", len(parts), pass1.n_rows)
    return assemble(formula, pass1, design, frame, by, levels, sums, len(parts), first)


def _passed(progress: Reporter | None, stage: str, parts: int, rows: int) -> None:
    if progress is not None:
        progress.chunk(stage, parts, rows)
        progress.done(stage)


def any_cross_products(
    formula: str,
    source: Any,
    chunk_rows: int,
    reporter: Reporter,
    weights: str | None,
    offset: str | None = None,
) -> CrossProducts:
    """Both passes over any source: a Dask DataFrame by :func:`dask_cross_products`, the others
    chunk by chunk (:func:`.crossproducts.compute_cross_products`)."""
    if is_dask_frame(source):
        return dask_cross_products(formula, source, weights, reporter, offset)
    return compute_cross_products(formula, source, chunk_rows, reporter, weights, offset)
