"""Design stage: data + parsed formula → arrays (y, X, Z blocks, weights, offset).

The only module that imports formulaic. Rows with a missing value in any variable the model uses
are dropped *before* any transform is fitted (as R's ``na.omit``). The recipe needed to encode new
data identically (formulaic model specs, group levels) is kept in :class:`DesignSpec`.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from formulaic import ModelSpec, model_matrix
from formulaic.errors import DataMismatchWarning

from . import validation as v
from .exceptions import DataError, FormulaError, RankDeficiencyWarning
from .formula.parser import ModelFormula, RandomTerm, expression_names, plain_message
from .formula.pycode import python_names
from .formula.pyexpr import formula_names, spec_names
from .frame import Columns, drop_unused_categories, for_formulaic, missing_values, model_frame
from .groups import (
    GroupCoding,
    check_levels,
    check_new_categories,
    code_groups,
    encode_new_groups,
    lme4_term_order,
)
from .plainterms import plain_part, plain_response
from .sizes import check_matrix_size, check_term_blocks

__all__ = [
    "Design",
    "DesignSpec",
    "TermDesign",
    "build_design",
    "canonical_rows",
    "drop_unused_categories",
    "lme4_term_order",
]

_RANK_TOL = 1e-7  # lme4's tolerance for dropping aliased fixed-effect columns


@dataclass(frozen=True)
class TermDesign:
    """Arrays of one random-effects term.

    Attributes
    ----------
    Z : ndarray, shape (n, k)
        The term's model-matrix columns (not weighted).
    refs : ndarray of int, shape (n,)
        Level code of each observation, in ``0 .. nlev-1``.
    """

    Z: np.ndarray
    refs: np.ndarray


class DeferredSpec:
    """formulaic's model spec of a plain formula part (see :mod:`.plainterms`), built from the
    model frame on first use; its column names are checked against the ones the fit used."""

    def __init__(
        self,
        formula: str,
        frame: pd.DataFrame,
        ctx: Mapping[str, Any],
        names: tuple[str, ...],
        rhs: bool,
    ) -> None:
        self._args = (formula, frame, ctx)
        self._names, self._rhs = names, rhs
        self._spec: ModelSpec | None = None

    def get(self) -> ModelSpec:
        """The model spec (built once)."""
        if self._spec is None:
            formula, frame, ctx = self._args
            mm = _materialize(formula, frame, ctx, "the formula")
            spec = mm.rhs.model_spec if self._rhs else mm.model_spec
            names = tuple(str(c) for c in spec.column_names)
            if names != self._names:  # pragma: no cover - guarded by tests/test_plainterms.py
                raise RuntimeError(f"formulaic's columns {names} differ from {self._names}")
            self._spec = spec
        return self._spec


def _resolve(spec: ModelSpec | DeferredSpec) -> ModelSpec:
    return spec.get() if isinstance(spec, DeferredSpec) else spec


@dataclass(frozen=True)
class TermSpec:
    """Recipe of one random-effects term (enough to encode new data)."""

    term: RandomTerm
    columns: tuple[str, ...]
    spec_source: ModelSpec | DeferredSpec
    coding: GroupCoding
    variables: tuple[str, ...]

    @property
    def spec(self) -> ModelSpec:
        """formulaic's model spec of the term's columns."""
        return _resolve(self.spec_source)

    @property
    def name(self) -> str:
        return self.term.group_name

    @property
    def levels(self) -> tuple[str, ...]:
        return self.coding.levels


@dataclass(frozen=True)
class DesignSpec:
    """Everything needed to build the same design from new data."""

    formula: ModelFormula
    fixed_spec_source: ModelSpec | DeferredSpec
    fixed_names: tuple[str, ...]
    kept_columns: tuple[int, ...]
    terms: tuple[TermSpec, ...]
    context: Mapping[str, Any]
    fixed_variables: tuple[str, ...]

    @property
    def fixed_spec(self) -> ModelSpec:
        """formulaic's model spec of the fixed-effects columns (before aliased ones are
        dropped)."""
        return _resolve(self.fixed_spec_source)

    def variables(self, random: bool) -> set[str]:
        """Columns of the fixed part (and, if ``random``, of random slopes; not groups)."""
        names = set(self.fixed_variables)
        if random:
            for term in self.terms:
                names |= set(term.variables) - set(term.coding.columns)
        return names

    def missing_rows(self, data: pd.DataFrame, random: bool) -> np.ndarray:
        """True for new rows with a missing fixed-part (or, if ``random``, random-slope) value.

        Missing grouping values are not counted: they are handled as new levels.
        """
        names = self.variables(random)
        cols = [c for c in data.columns if c in names]
        absent = sorted(names - set(map(str, data.columns)))
        if absent:
            raise DataError(f"new data lack the column(s) {absent} used by the model")
        return data[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(len(data), bool)

    def fixed_matrix(self, data: pd.DataFrame) -> np.ndarray:
        """Fixed-effects matrix of new data (no missing values), shape (m, p)."""
        X = _new_matrix(self.fixed_spec, data, "fixed effects")
        return X[:, list(self.kept_columns)]

    def term_matrix(self, i: int, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Columns (m, k), level codes (m,) (-1: not fitted) and missing-group mask of term i."""
        term = self.terms[i]
        Z = _new_matrix(term.spec, data, f"random-effects term {term.term.source!r}")
        codes, missing = encode_new_groups(term.coding, data)
        return Z, codes, missing

    def offset(self, data: pd.DataFrame) -> np.ndarray:
        """Offset of new data from the formula's ``offset()`` terms, shape (m,)."""
        return _formula_offset(self.formula, data, self.context)


@dataclass(frozen=True)
class Design:
    """The arrays of a model on its data (rows with missing values removed).

    Attributes
    ----------
    y : ndarray, shape (n,)
    X : ndarray, shape (n, p)
    terms : tuple of TermDesign
        One per random-effects term, in lme4's order (see :func:`lme4_term_order`).
    weights : ndarray, shape (n,), or None
    offset : ndarray, shape (n,)
    rows : ndarray of int, shape (n,)
        Positions of the used rows in the original data.
    n_dropped : int
        Rows dropped for missing values.
    dropped_fixed : tuple of str
        Fixed-effect columns dropped as aliased.
    spec : DesignSpec
    frame : pandas.DataFrame or None
        The model frame: the rows the model uses, with (at least) the columns it uses; kept so a
        fit can be saved and rebuilt, and formulaic's specs built later. A snapshot: changes to
        the user's data after the fit do not reach it.
    """

    y: np.ndarray
    X: np.ndarray
    terms: tuple[TermDesign, ...]
    weights: np.ndarray | None
    offset: np.ndarray
    rows: np.ndarray
    n_dropped: int
    dropped_fixed: tuple[str, ...]
    spec: DesignSpec
    frame: pd.DataFrame | None = None


def build_design(
    formula: ModelFormula,
    data: pd.DataFrame,
    weights: str | Sequence[float] | np.ndarray | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
) -> Design:
    """Build the design of ``formula`` on ``data``.

    Parameters
    ----------
    formula : ModelFormula
    data : pandas.DataFrame
        Not modified.
    weights, offset : str or array-like of length ``len(data)``, optional
        A column name or values per row. A missing offset drops its row (as R); a missing
        weight on a row the model would use is an error.
    context : mapping, optional
        Extra names visible to Python expressions in the formula (``np`` is always there).

    Returns
    -------
    Design

    Raises
    ------
    FormulaError
        Unknown column or an expression formulaic cannot evaluate.
    DataError
        Empty data, duplicate columns, no rows left, text where numbers are needed, infinite
        values, a constant response, bad weights, grouping factors that cannot carry their
        terms, slopes that do not vary within groups. Each message names the column or term.
    """
    v.check_frame(data)
    ctx = {"np": np, **(context or {})}
    used = _used_columns(formula, data, ctx)
    w_all = v.numbers(weights, data, "weights")
    off_all = v.numbers(offset, data, "offset")
    columns = Columns(data)
    na, infinite = missing_values(columns, used)
    missing = np.asarray(na.any(axis=1), dtype=bool)
    if off_all is not None:
        missing |= np.isnan(off_all)
    if w_all is not None:
        v.check_missing_weights(w_all, missing, weights, data.index)
        missing |= np.isnan(w_all)
    rows = np.flatnonzero(~missing)
    if len(rows) == 0:
        raise v.no_rows_error(used, na, {"weights": w_all, "offset": off_all})
    frame_columns = model_frame(data, columns, used, rows)
    frame = frame_columns.frame
    if infinite:
        v.check_infinite(frame[used])  # raises if an infinite value is on a row the model uses
    check_matrix_size(formula.fixed, frame_columns, "the fixed effects")
    y, X, fixed_spec, fixed_names = _fixed_part(formula, frame_columns, ctx)
    _check_finite(X, fixed_names, "fixed-effects column")
    X, names, kept, dropped = _drop_aliased(X, fixed_names)
    v.check_residual_df(len(rows), names)
    w = None if w_all is None else v.check_weights(w_all[rows], weights)
    off = np.zeros(len(rows)) if off_all is None else off_all[rows]
    off = off + _formula_offset(formula, frame, ctx)
    _check_finite(off[:, None], ["offset"], "")
    v.check_constant_response(formula, y, off)
    term_specs, term_arrays = _random_part(formula, frame_columns, ctx)
    fixed_vars = set(expression_names(formula.fixed))
    for expr in formula.offsets:
        fixed_vars |= python_names(expr)  # offset(expr) is Python code (1e-3*Days)
    fixed_variables = tuple(c for c in used if c in fixed_vars)
    spec = DesignSpec(formula, fixed_spec, names, kept, term_specs, ctx, fixed_variables)
    return Design(y, X, term_arrays, w, off, rows, len(data) - len(rows), dropped, spec, frame)


def canonical_rows(design: Design) -> Design:
    """The design with its rows sorted by their values, for the optimizer.

    The permutation depends only on the rows' contents (sorted by level codes, then columns,
    weights, offset and response; identical rows are interchangeable), so data given in any row
    order yield identical arrays, hence bit-identical θ̂. Data sorted by group and covariates
    (the usual layout) keep their order. ``rows`` is permuted alike.

    Parameters
    ----------
    design : Design

    Returns
    -------
    Design
        A copy whose per-row arrays are in the canonical order.
    """
    keys: list[np.ndarray] = _level_keys([t.refs for t in design.terms]) + list(design.X.T)
    for t in design.terms:
        keys.extend(t.Z.T)
    if design.weights is not None:
        keys.append(design.weights)
    keys += [design.offset, design.y]
    keys = [k for k in keys if len(k) and not (k == k[0]).all()]  # a constant key orders nothing
    p = np.lexsort(keys[::-1]) if keys else np.arange(len(design.y))  # the last key is primary
    return replace(
        design,
        y=design.y[p],
        X=design.X[p],
        terms=tuple(TermDesign(t.Z[p], t.refs[p]) for t in design.terms),
        weights=None if design.weights is None else design.weights[p],
        offset=design.offset[p],
        rows=design.rows[p],
    )


def _level_keys(refs: list[np.ndarray]) -> list[np.ndarray]:
    """The level codes as sort keys: one combined key (lexicographic order kept) when the
    product of the level counts fits in 62 bits, else one key per term."""
    sizes = [int(r.max()) + 1 if len(r) else 1 for r in refs]
    if not refs or math.prod(sizes) >= 2**62:
        return refs
    key = np.zeros(len(refs[0]), dtype=np.int64)
    for r, size in zip(refs, sizes, strict=True):
        key = key * size + r
    return [key]


def _used_columns(formula: ModelFormula, data: pd.DataFrame, ctx: Mapping[str, Any]) -> list[str]:
    columns = set(map(str, data.columns))
    names = formula.variables()
    groups = {g for term in formula.random for g in term.group}
    unknown = sorted(groups - columns)
    unknown += sorted(n for n in names - columns if n not in ctx and not _is_builtin(n))
    if unknown:
        name = unknown[0]
        role = " (a grouping factor)" if name in groups else ""
        close = difflib.get_close_matches(name, sorted(columns), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise FormulaError(
            f"unknown column {name!r}{role} in the formula {formula.text!r}: {hint}check the "
            f"spelling (names are case-sensitive); available columns: {sorted(columns)}"
        )
    return [c for c in map(str, data.columns) if c in names]


def _is_builtin(name: str) -> bool:
    import builtins

    return hasattr(builtins, name) or name in {"C", "I", "Q", "center", "scale", "poly", "bs"}


def _check_finite(M: np.ndarray, names: Sequence[str], what: str) -> None:
    """Raise if a transform produced infinite or NaN values (e.g. ``np.log(0)``)."""
    bad = ~np.isfinite(M)
    if bad.any():
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        label = f"{what} {names[col]!r}".strip()
        raise DataError(
            f"{label} has {int(bad[:, col].sum())} infinite or NaN value(s) after its "
            "transform (e.g. the log of 0); drop those rows or change the transform"
        )


def _materialize(formula: str, frame: pd.DataFrame, ctx: Mapping[str, Any], where: str) -> Any:
    frame = for_formulaic(frame, *formula_names(formula))
    try:
        return model_matrix(formula, frame, context=dict(ctx), na_action="ignore")
    except (FormulaError, DataError):
        raise
    except Exception as err:
        v.check_numeric_expressions(formula, frame)  # names the text column if that was the cause
        msg = f"cannot evaluate {where} {formula!r}: {plain_message(err)}"
        raise FormulaError(msg) from None


def _fixed_part(
    formula: ModelFormula, columns: Columns, ctx: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, ModelSpec | DeferredSpec, tuple[str, ...]]:
    """y, X, X's model spec and X's column names."""
    frame = columns.frame
    text = f"{formula.response} ~ {formula.fixed}"
    y = plain_response(formula.response, columns)
    if y is None:
        v.check_response(formula.response, frame)
    part = plain_part(formula.fixed, columns)
    if y is not None and part is not None:
        _check_finite(y[:, None], [formula.response], "the response")
        spec = DeferredSpec(text, frame, ctx, part.names, rhs=True)
        return y, part.matrix(columns), spec, part.names
    mm = _materialize(text, frame, ctx, "the formula")
    lhs = mm.lhs
    if lhs.shape[1] != 1:
        raise DataError(
            f"the response {formula.response!r} must be one numeric column, "
            f"not {lhs.shape[1]} columns (is it categorical?)"
        )
    y = np.asarray(lhs, dtype=float).ravel()
    _check_finite(y[:, None], [formula.response], "the response")
    spec = mm.rhs.model_spec
    _check_factor_levels(spec, "the fixed effects")
    return y, np.asarray(mm.rhs, dtype=float), spec, tuple(str(c) for c in spec.column_names)


def _check_factor_levels(spec: ModelSpec, where: str) -> None:
    """Refuse a categorical with fewer than two levels, as R's ``contrasts<-`` does (formulaic
    would silently give it no column)."""
    for name, (kind, state) in spec.encoder_state.items():
        if getattr(kind, "value", kind) != "categorical":
            continue
        levels = state.get("categories", ())
        if len(levels) < 2:
            shown = f" (its only level is {levels[0]!r})" if len(levels) == 1 else ""
            raise DataError(
                f"the factor {name!r} in {where} has {len(levels)} level(s){shown} among the rows "
                "the model uses: contrasts can be applied only to factors with 2 or more levels "
                "(as R says); drop it from the formula or check how the data were filtered"
            )


def _drop_aliased(
    X: np.ndarray, names: Sequence[str]
) -> tuple[np.ndarray, tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    """Drop columns in the span of earlier ones (R's ``qr`` with tolerance 1e-7, as lme4)."""
    kept = tuple(_independent_columns(X))
    dropped = tuple(names[i] for i in range(X.shape[1]) if i not in kept)
    if dropped:
        warnings.warn(
            f"fixed-effect model matrix is rank deficient so dropping {len(dropped)} "
            f"column(s): {', '.join(dropped)}",
            RankDeficiencyWarning,
            stacklevel=4,
        )
    return X[:, list(kept)], tuple(names[i] for i in kept), kept, dropped


def _independent_columns(X: np.ndarray) -> list[int]:
    """Columns kept by a left-to-right Gram-Schmidt sweep: a column whose residual on the kept
    ones is below ``_RANK_TOL`` times its norm is aliased (R's ``qr`` keeps earlier columns).

    Once the kept columns span the constant (an intercept, or ``0 + f``'s cell means), later
    columns are swept centred (two-pass means: the same spans): a covariate far from 0 (a
    timestamp, ``Days + 1e9``) is not taken for a multiple of the intercept, as R's ``qr`` of the
    uncentred columns takes it (shift invariance, issue 10)."""
    n, p = X.shape
    Q = np.empty((n, p))
    kept: list[int] = []
    ones = np.full(n, 1.0 / np.sqrt(n)) if n else np.zeros(0)
    centre = False
    for j in range(p):
        x = X[:, j]
        if centre:
            m = x.mean()
            x = x - (m + (x - m).mean())
        norm = float(np.linalg.norm(x))
        basis = Q[:, : len(kept)]
        r = x - basis @ (basis.T @ x)
        r = r - basis @ (basis.T @ r)
        rn = float(np.linalg.norm(r))
        if norm > 0 and rn > _RANK_TOL * norm:
            Q[:, len(kept)] = r / rn
            kept.append(j)
            if not centre:
                basis = Q[:, : len(kept)]
                centre = bool(np.linalg.norm(ones - basis @ (basis.T @ ones)) < 1e-9)
    return kept


def _random_part(
    formula: ModelFormula, columns: Columns, ctx: Mapping[str, Any]
) -> tuple[tuple[TermSpec, ...], tuple[TermDesign, ...]]:
    frame, n = columns.frame, len(columns)
    specs, arrays = [], []
    for term in formula.random:
        v.check_text_slopes(term, columns)
        check_matrix_size(term.expr, columns, f"random-effects term {term.source!r}")
        part = plain_part(term.expr, columns)
        spec: ModelSpec | DeferredSpec
        if part is not None:
            Z, cols = part.matrix(columns), part.names
            spec = DeferredSpec(term.expr, frame, ctx, cols, rhs=False)
        else:
            mm = _materialize(term.expr, frame, ctx, f"random-effects term {term.source!r}:")
            Z = np.asarray(mm, dtype=float)
            spec = mm.model_spec
            _check_factor_levels(spec, f"random-effects term {term.source!r}")
            cols = tuple(str(c) for c in spec.column_names)
        if Z.shape[1] == 0:
            raise FormulaError(f"random-effects term {term.source!r} has no columns")
        _check_finite(Z, cols, f"column of random-effects term {term.source!r}:")
        coding, refs = code_groups(columns, term.group)
        check_term_blocks(term.source, term.group_name, len(coding.levels), Z.shape[1])
        check_levels(term.group_name, term.source, len(coding.levels), n, Z.shape[1])
        variables = tuple(sorted(expression_names(term.expr) | set(term.group)))
        specs.append(TermSpec(term, cols, spec, coding, variables))
        arrays.append(TermDesign(Z, refs))
    v.check_slopes_vary(
        [s.term for s in specs],
        [partial(_resolve, s.spec_source) for s in specs],
        [a.Z for a in arrays],
        [a.refs for a in arrays],
        frame,
    )
    order = lme4_term_order([len(s.levels) for s in specs])
    return tuple(specs[i] for i in order), tuple(arrays[i] for i in order)


def _formula_offset(
    formula: ModelFormula, frame: pd.DataFrame, ctx: Mapping[str, Any]
) -> np.ndarray:
    total = np.zeros(len(frame))
    for expr in formula.offsets:
        v.check_numeric_expressions(f"offset({expr})", frame)
        values = np.asarray(_materialize(f"0 + I({expr})", frame, ctx, "offset"), dtype=float)
        if values.shape != (len(frame), 1):
            raise DataError(f"offset({expr}) must give one number per row")
        total += values.ravel()
    return total


def _new_matrix(spec: ModelSpec, data: pd.DataFrame, what: str) -> np.ndarray:
    """Model matrix of new rows; a category the fit never saw is an error, not zeros."""
    factors = [(f.expr, f.eval_method.value) for term in spec.formula for f in term.factors]
    data = for_formulaic(data, *spec_names(factors))
    check_new_categories(spec, data, what)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)
        try:
            return np.asarray(spec.get_model_matrix(data, na_action="ignore"), dtype=float)
        except DataMismatchWarning as err:
            raise DataError(f"new data for the {what}: {err}") from None
