"""Reusing a design whose predictors have not changed (design stage, issue 15).

A fit of the same formula on data whose predictor columns hold the same values — the same data
frame fitted again (REML and ML, another ``start``), or a new response on the same design (a
simulation study, a power analysis) — has the same X, Z blocks, level codes, names and recipe:
only the response differs. :func:`reused_design` returns such a design from a bounded cache
(:mod:`mixedfit.formula.memo`) after checking, on every call, that every used column other than
the response has the kind (:func:`.plan.same_kinds`) and the very values (bit for bit) of the
stored snapshot; the response is read and checked afresh. Its arrays are shared between the fits
and read-only. The snapshot is of the data as given (a Categorical's dtype with its unused
categories, and its codes), which fix the model frame's (unused categories dropped) exactly.

Text columns (:mod:`.textvalues`) are compared string by string against a snapshot of their
values: their levels are their sorted values, so the same strings give the same design.

Only the common case is kept: plain parts only (no formulaic evaluation, hence no Python code
of the user's), a numeric response, no ``weights``, ``offset``, ``offset()`` term or
``context``, no missing value, no aliased column (no warning), at most ``MAX_ROWS`` rows. One
design is kept per formula and kinds of the used columns' dtypes (the last one built; a frame
of Categorical columns and one of text columns keep one each), for the 8 such keys used last,
with their canonical orders: a few MB at most. Any other design is built in full, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from formulaic import ModelSpec

from ..formula import ModelFormula
from ..formula.memo import LRU, Bypass, caches_enabled
from . import canonical
from . import frame as frames
from . import validation as v
from .frame import Columns, model_frame
from .plan import DesignPlan, same_kinds, value_free_dtype
from .spec import DeferredSpec, Design, DesignSpec, TermDesign, assembled
from .textvalues import TextSnapshot, is_text_dtype, text_snapshot

__all__ = ["MAX_ROWS", "designs_built", "forget_designs", "keep_design", "reused_design"]

MAX_ROWS = 20_000  # larger data are built afresh (a stored design holds copies of its arrays)


@dataclass(frozen=True, eq=False)
class _Entry:
    """A stored design: the used columns (in order), the response's name and dtype, the
    compared columns' dtypes and value snapshots (of the data as given), the model frame's
    dtype and codes of those with an unused category (dropped there), and the design
    (:func:`_private`)."""

    used: tuple[str, ...]
    response: str
    response_dtype: object
    compared: tuple[str, ...]
    kinds: tuple[object, ...]
    values: tuple[np.ndarray | TextSnapshot, ...]
    unused: tuple[tuple[str, pd.CategoricalDtype, np.ndarray], ...]
    design: Design


_DESIGNS: LRU[_Entry] = LRU(8)


_bypass = Bypass()  # open designs_built() blocks (in any thread)


@contextmanager
def designs_built() -> Iterator[None]:
    """Within the block every design is built from the data, neither reused nor stored (the
    other caches still serve): what the first fit of new predictors costs (for benchmarks)."""
    with _bypass.block():
        yield


def forget_designs() -> None:
    """Forget every stored design and canonical order (the next fit of any data builds its
    design; benchmarks time that path this way)."""
    _DESIGNS.clear()
    canonical.forget_orders()


def _key(
    formula: ModelFormula, names: str, columns: Columns, used: Sequence[str]
) -> tuple[object, ...]:
    """The formula, the naming scheme and the used columns' kinds of dtype (numpy's type codes,
    else the dtype's class: ``CategoricalDtype``, ``StringDtype``, ...): the same formula fitted
    alternately to frames of Categorical and of text columns keeps a design for each."""
    kinds = tuple(_kind(columns[c].dtype) for c in used)
    return (formula, formula.text, tuple(t.source for t in formula.random), names, kinds)


def _kind(dtype: object) -> str:
    return dtype.str if isinstance(dtype, np.dtype) else type(dtype).__name__


def _plain_call(
    formula: ModelFormula, weights: object, offset: object, context: Mapping[str, Any] | None
) -> bool:
    return weights is None and offset is None and not context and not formula.offsets


def reused_design(
    formula: ModelFormula,
    columns: Columns,
    used: Sequence[str],
    names: str,
    weights: object,
    offset: object,
    context: Mapping[str, Any] | None,
) -> Design | None:
    """The stored design of ``formula`` with the response of ``data``, or None (build it).

    Parameters
    ----------
    formula : ModelFormula
    columns : Columns
        Of the data (checked by :func:`.validation.check_frame`); the columns read here are
        kept in it for the full build when the stored design does not match.
    used : sequence of str
        The columns the formula uses (:func:`.build.used_columns`).
    names, weights, offset, context
        As given to :func:`.build.build_design`.

    Returns
    -------
    Design or None
        None unless a stored design matches (see the module docstring).
    """
    if _bypass or not caches_enabled() or not _plain_call(formula, weights, offset, context):
        return None
    entry = _DESIGNS.get(_key(formula, names, columns, used))
    data = columns.frame
    if entry is None or entry.used != tuple(used) or len(entry.design.rows) != len(columns):
        return None
    read = [columns[c] for c in entry.compared]
    kinds = tuple(c.dtype for c in read)
    if any(c.array is None for c in read) or not same_kinds(entry.kinds, kinds):
        return None
    for column, saved in zip(read, entry.values, strict=True):
        if isinstance(saved, TextSnapshot):  # a text column's strings (:mod:`.textvalues`)
            if not saved.matches(column):
                return None
        elif not _same_bits(_bits(column), saved):
            return None
    response = columns[entry.response]
    if response.array is None or response.dtype != entry.response_dtype:
        return None
    if not np.isfinite(response.values).all():  # (a sum would warn on inf + -inf)
        return None  # a missing or infinite response: built in full (rows dropped, errors)
    old = entry.design
    if frames._copy_on_write():  # model_frame(): the same columns, unused categories dropped
        copy = frames.shallow_copy(data)
        for name, dtype, codes in entry.unused:  # as the model frame of these very codes
            copy[name] = pd.Categorical.from_codes(codes, dtype=dtype)
        frame = columns.sharing(copy, changed=[name for name, _, _ in entry.unused])
    else:
        frame = model_frame(data, columns, used, old.rows)
    y = frame[entry.response].floats
    v.check_constant_response(formula, y, old.offset)
    spec = _respec(old.spec, frame.frame)
    return assembled(y, old.X, old.terms, None, old.offset, old.rows, 0, (), spec, frame.frame)


def keep_design(
    design: Design,
    plan: DesignPlan,
    columns: Columns,
    used: Sequence[str],
    missing: bool,
    weights: object,
    offset: object,
    context: Mapping[str, Any] | None,
) -> None:
    """Store ``design`` if it is of the kind :func:`reused_design` serves (see the module
    docstring); ``design`` itself is not changed.

    ``columns`` are those of the data as given to :func:`.build.build_design` (read by
    :func:`reused_design` too), not of the model frame: a design is stored only when every row is
    used, and the model frame's categories are then those of the data less the unused ones."""
    formula = design.spec.formula
    if (
        _bypass
        or not caches_enabled()
        or not _plain_call(formula, weights, offset, context)
        or missing
        or design.n_dropped
        or design.dropped_fixed
        or len(design.y) > MAX_ROWS
        or not (plan.value_free or all(map(_storable, plan.kinds)))
        or not plan.response
        or plan.fixed.part is None
        or any(t.part.part is None for t in plan.terms)
    ):
        return
    response = formula.response.strip()
    predictors = set(plan.fixed_variables).union(*(t.variables for t in plan.terms))
    compared = tuple(c for c in used if c != response or response in predictors)
    read = [columns[c] for c in (*compared, response)]
    if any(c.array is None for c in read):
        return
    snapshots = [_snapshot(c) for c in read[:-1]]
    if any(s is None for s in snapshots):
        return  # a text column holding something other than strings
    values = tuple(s for s in snapshots if s is not None)
    unused = tuple(
        _dropped(name, design.frame)
        for name, c in zip(compared, read[:-1], strict=True)
        if c.categorical and c.has_unused
    )
    entry = _Entry(
        tuple(used),
        response,
        read[-1].dtype,
        compared,
        tuple(c.dtype for c in read[:-1]),
        values,
        unused,
        _private(design),
    )
    _DESIGNS.put(_key(formula, design.spec.names, columns, used), entry)


def _storable(dtype: object) -> bool:
    """A design on a column of this dtype is stored: numbers, booleans, categories, or text
    (whose values are checked by :func:`_snapshot`)."""
    return value_free_dtype(dtype) or is_text_dtype(dtype)


def _snapshot(column: Any) -> np.ndarray | TextSnapshot | None:
    """What :func:`reused_design` compares of the column: a copy of its :func:`_bits`, or the
    strings of a text column (None: not only strings)."""
    if not column.categorical and is_text_dtype(column.dtype):
        return text_snapshot(column)
    return np.array(_bits(column))


def _dropped(name: str, frame: pd.DataFrame | None) -> tuple[str, pd.CategoricalDtype, np.ndarray]:
    """The model frame's dtype and (read-only) codes of the column ``name``."""
    assert frame is not None
    categorical = frame[name].array
    assert isinstance(categorical, pd.Categorical)
    codes = np.array(categorical.codes)
    codes.flags.writeable = False
    return name, categorical.dtype, codes


def _private(design: Design) -> Design:
    """The design as stored: read-only copies of its arrays (some are views of the data's, which
    the user may change in place), no response, no model frame, and its recipe on an empty
    placeholder frame (the cache keeps none of the user's data alive): each reuse points the
    recipe at its own model frame (:func:`_respec`)."""

    def own(a: np.ndarray) -> np.ndarray:
        out = np.array(a)
        out.flags.writeable = False
        return out

    terms = tuple(TermDesign(own(t.Z), own(t.refs)) for t in design.terms)
    empty = np.empty(0)
    rows = own(design.rows)
    spec = _respec(design.spec, _NO_FRAME)
    return Design(empty, own(design.X), terms, None, own(design.offset), rows, 0, (), spec, None)


_NO_FRAME = pd.DataFrame()


def _respec(spec: DesignSpec, frame: pd.DataFrame) -> DesignSpec:
    """``spec`` with its deferred formulaic specs built from ``frame`` (when first asked for)."""
    return _with(
        spec,
        fixed_spec_source=_on(spec.fixed_spec_source, frame),
        terms=tuple(_with(t, spec_source=_on(t.spec_source, frame)) for t in spec.terms),
    )


T = TypeVar("T")


def _with(record: T, **changes: object) -> T:
    """``dataclasses.replace(record, **changes)`` of a frozen dataclass without running its
    ``__init__`` again (the other fields are those of a checked record): a tenth of the cost."""
    out = object.__new__(type(record))
    out.__dict__.update(record.__dict__, **changes)
    return out


def _on(source: ModelSpec | DeferredSpec, frame: pd.DataFrame) -> ModelSpec | DeferredSpec:
    return source.on(frame) if isinstance(source, DeferredSpec) else source


def _bits(column: Any) -> np.ndarray:
    """The column's values as compared bit for bit: category codes, or the numbers' bytes (so
    0.0 and -0.0 differ, as they do in X)."""
    if column.categorical:
        return np.asarray(column.codes)
    values = np.asarray(column.values)
    if values.dtype.kind == "f":
        return values.view(f"u{values.dtype.itemsize}")
    return values


def _same_bits(bits: np.ndarray, saved: np.ndarray) -> bool:
    """``np.array_equal(bits, saved)``; for integer or boolean arrays of the same dtype and
    shape (category codes, the numbers' bytes) the bytes compared at once (a tenth of the
    cost on a small design)."""
    if bits.dtype == saved.dtype and bits.shape == saved.shape and bits.dtype.kind in "iub":
        return bits.tobytes() == saved.tobytes()
    return bool(np.array_equal(bits, saved))
