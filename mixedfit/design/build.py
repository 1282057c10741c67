"""Building a design: data + parsed formula → arrays (y, X, Z blocks, weights, offset).

The stage's entry point, :func:`build_design`: the data are checked (:mod:`.validation`), the used
columns read once (:mod:`.frame`), the plain parts built directly (:mod:`.plainterms`) and the
others by formulaic, the groups coded (:mod:`.groups`) and sizes bounded (:mod:`.sizes`). Rows
with a missing value in any variable the model uses are dropped *before* any transform is fitted
(as R's ``na.omit``). The recipe needed to encode new data identically (formulaic model specs,
group levels) is kept in :class:`~.spec.DesignSpec`.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from formulaic import ModelSpec

from ..exceptions import DataError, FormulaError, RankDeficiencyWarning
from ..formula import ModelFormula
from ..formula.memo import LRU
from . import validation as v
from .canonical import canonical_rows
from .frame import Columns, missing_values, model_frame
from .groups import (
    DIAG_HINT,
    check_levels,
    code_groups,
    lme4_term_order,
)
from .plan import DesignPlan, design_plan
from .portable import FormulaContext
from .reuse import keep_design, reused_design
from .rnames import Naming, check_names_scheme, spec_naming
from .rtransforms import with_r_context
from .sizes import check_matrix_size, check_term_blocks
from .slopes import check_slopes_vary, check_text_slopes
from .spec import (
    DeferredSpec,
    Design,
    DesignSpec,
    TermDesign,
    TermSpec,
    formula_offset,
    materialize,
    resolve_spec,
)

__all__ = ["build_design", "canonical_rows", "used_columns"]

_RANK_TOL = 1e-7  # lme4's tolerance for dropping aliased fixed-effect columns


def build_design(
    formula: ModelFormula,
    data: pd.DataFrame,
    weights: str | Sequence[float] | np.ndarray | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
    names: str = "r",
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
    names : {"r", "formulaic"}, default "r"
        Column names as R gives them (``(Intercept)``, ``SexFemale``; see :mod:`.rnames`) or as
        formulaic does (``Intercept``, ``Sex[T.Female]``).

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
    check_names_scheme(names)
    ctx = FormulaContext({"np": np, **(context or {})})
    positions = used_columns(formula, data, ctx)  # the cache's own dict: not modified
    used = list(positions)
    columns = Columns(data, positions)
    reused = reused_design(formula, columns, used, names, weights, offset, context)
    if reused is not None:  # the same predictors: only the response is read
        return reused
    w_all = v.numbers(weights, data, "weights")
    off_all = v.numbers(offset, data, "offset")
    na, infinite = missing_values(columns, used)
    if na is None and off_all is None and w_all is None:
        rows = np.arange(len(data))  # nothing missing
    else:
        na = np.zeros((len(data), len(used)), dtype=bool) if na is None else na
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
    plan = design_plan(formula, frame_columns, used)
    check_matrix_size(formula.fixed, frame_columns, "the fixed effects", plan.fixed.count)
    y, X, fixed_spec, formulaic_names, (r_names, r_labels) = _fixed_part(
        formula, frame_columns, ctx, plan
    )
    fixed_names, aliases = (
        (r_names, formulaic_names) if names == "r" else (formulaic_names, r_names)
    )
    _check_finite(X, fixed_names, "fixed-effects column")
    X, kept_names, kept, dropped = _drop_aliased(X, fixed_names)
    v.check_residual_df(len(rows), kept_names)
    w = None if w_all is None else v.check_weights(w_all[rows], weights)
    off = np.zeros(len(rows)) if off_all is None else off_all[rows]
    if formula.offsets:
        off = off + formula_offset(formula, frame, ctx)
        _check_finite(off[:, None], ["offset"], "")
    elif off_all is not None:
        _check_finite(off[:, None], ["offset"], "")
    v.check_constant_response(formula, y, off)
    term_specs, term_arrays = _random_part(formula, frame_columns, ctx, names, plan)
    spec = DesignSpec(
        formula,
        fixed_spec,
        kept_names,
        kept,
        term_specs,
        ctx,
        plan.fixed_variables,
        names=names,
        aliases=tuple(aliases[i] for i in kept),
        term_labels=r_labels if names == "r" else {},
    )
    design = Design(y, X, term_arrays, w, off, rows, len(data) - len(rows), dropped, spec, frame)
    incomplete = na is not None or infinite
    keep_design(design, plan, columns, used, incomplete, weights, offset, context)
    return design


_USED: LRU[tuple[pd.Index, tuple[str, ...], dict[str, int]]] = LRU(256)


def used_columns(
    formula: ModelFormula, data: pd.DataFrame, ctx: Mapping[str, Any]
) -> dict[str, int]:
    """The data's columns that ``formula`` uses, in the data's order (:func:`_used_columns`),
    with their positions in ``data.columns`` (-1 unless the label is that very string, once).
    Cached on the formula, the names
    ``ctx`` defines and the column names (all it reads): the same columns Index (immutable) or
    one with the same names."""
    key = (formula, formula.text, frozenset(ctx))
    entry = _USED.get(key)
    if entry is not None and entry[0] is data.columns:
        return entry[2]
    names = tuple(map(str, data.columns))
    if entry is not None and entry[1] == names:
        used = entry[2]
    else:
        found = _used_columns(formula, data, with_r_context(dict(ctx)))
        used = dict.fromkeys(found, -1)  # -1: the position is looked up by label
        labels = list(data.columns)
        for i, name in enumerate(names):
            if name in used and isinstance(labels[i], str) and names.count(name) == 1:
                used[name] = i
    _USED.put(key, (data.columns, names, used))
    return used


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

    return hasattr(builtins, name) or name in _FORMULAIC_NAMES


# formulaic's functions and contrast classes (``C(f, Sum)``), which its context provides
_FORMULAIC_NAMES = frozenset(
    {"C", "I", "Q", "center", "scale", "poly", "bs", "Sum", "Treatment", "Helmert", "Diff", "Poly"}
)


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


def _fixed_part(
    formula: ModelFormula, columns: Columns, ctx: Mapping[str, Any], plan: DesignPlan
) -> tuple[np.ndarray, np.ndarray, ModelSpec | DeferredSpec, tuple[str, ...], Naming]:
    """y, X, X's model spec, X's column names (formulaic's) and R's names and term labels."""
    frame = columns.frame
    text = f"{formula.response} ~ {formula.fixed}"
    y = columns[formula.response.strip()].floats if plan.response else None
    if y is None:
        v.check_response(formula.response, frame)
    part, naming = plan.fixed.part, plan.fixed.naming
    if y is not None and part is not None and naming is not None:
        _check_finite(y[:, None], [formula.response], "the response")
        spec = DeferredSpec(text, frame, ctx, part.names, rhs=True)
        return y, part.matrix(columns), spec, part.names, naming
    mm = materialize(text, frame, ctx, "the formula")
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
    names = tuple(str(c) for c in spec.column_names)
    return y, np.asarray(mm.rhs, dtype=float), spec, names, spec_naming(spec, frame)


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
    if not dropped and X.flags.c_contiguous and X.flags.writeable and X.base is None:
        return X, tuple(names), kept, dropped  # our own array, as X[:, list(kept)] copies it
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
    centre = False
    first_constant = bool(n and p and X[0, 0] != 0 and (X[:, 0] == X[0, 0]).all())
    for j in range(p):
        x = X[:, j]
        if centre:
            m = x.mean()
            x = x - (m + (x - m).mean())
        norm = _norm(x)
        if kept:
            basis = Q[:, : len(kept)]
            r = x - basis @ (basis.T @ x)
            r = r - basis @ (basis.T @ r)
            rn = _norm(r)
        else:  # no basis yet: the projections are zeros, the residual is x itself
            r, rn = x, norm
        if norm > 0 and rn > _RANK_TOL * norm:
            Q[:, len(kept)] = r / rn
            kept.append(j)
            if not centre and (first_constant or len(kept) > 1):  # the usual intercept first
                centre = first_constant or _spans_constant(Q[:, : len(kept)])
    return kept


def _norm(x: np.ndarray) -> float:
    """``np.linalg.norm(x)`` of a vector, as it computes it (the root of the dot product of
    the contiguous values), without its overhead."""
    v = x.ravel(order="K")
    return math.sqrt(float(v.dot(v)))


def _spans_constant(basis: np.ndarray) -> bool:
    """True if the orthonormal columns of ``basis`` span the constant vector."""
    n = len(basis)
    ones = np.full(n, 1.0 / np.sqrt(n))
    return bool(np.linalg.norm(ones - basis @ (basis.T @ ones)) < 1e-9)


def _random_part(
    formula: ModelFormula, columns: Columns, ctx: Mapping[str, Any], names: str, plan: DesignPlan
) -> tuple[tuple[TermSpec, ...], tuple[TermDesign, ...]]:
    frame, n = columns.frame, len(columns)
    specs, arrays = [], []
    for term, term_plan in zip(formula.random, plan.terms, strict=True):
        if not plan.value_free:  # else no used column holds text
            check_text_slopes(term, columns)
        where = f"random-effects term {term.source!r}"
        check_matrix_size(term.expr, columns, where, term_plan.part.count)
        part, naming = term_plan.part.part, term_plan.part.naming
        spec: ModelSpec | DeferredSpec
        if part is not None and naming is not None:
            Z, cols = part.matrix(columns), part.names
            spec = DeferredSpec(term.expr, frame, ctx, cols, rhs=False)
            r_cols = naming[0]
        else:
            mm = materialize(term.expr, frame, ctx, f"{where}:")
            Z = np.asarray(mm, dtype=float)
            spec = mm.model_spec
            _check_factor_levels(spec, where)
            cols = tuple(str(c) for c in spec.column_names)
            r_cols = spec_naming(spec, frame)[0]
        if Z.shape[1] == 0:
            raise FormulaError(f"random-effects term {term.source!r} has no columns")
        _check_finite(Z, cols, f"column of {where}:")
        coding, refs = code_groups(columns, term.group, term_plan.levels)
        check_term_blocks(term.source, term.group_name, len(coding.levels), Z.shape[1])
        # a structured term has few parameters: one random effect per observation is fine
        # (ar1(0 + f | g) with f the visit, as lme4 2.x and glmmTMB fit it)
        few = term.structure in ("cs", "ar1", "toep") or bool(term.hom)
        hint = DIAG_HINT if term.structure == "diag" else ""
        ncol = 1 if few else Z.shape[1]
        check_levels(term.group_name, term.source, len(coding.levels), n, ncol, hint)
        if names == "r":
            cols, r_cols = r_cols, cols
        specs.append(TermSpec(term, cols, spec, coding, term_plan.variables, aliases=r_cols))
        arrays.append(TermDesign(Z, refs))
    check_slopes_vary(
        [s.term for s in specs],
        [partial(resolve_spec, s.spec_source) for s in specs],
        [a.Z for a in arrays],
        [a.refs for a in arrays],
        frame,
        [s.columns for s in specs],
    )
    order = lme4_term_order([len(s.levels) for s in specs])
    return tuple(specs[i] for i in order), tuple(arrays[i] for i in order)
