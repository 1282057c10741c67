"""The recipe of a design and its arrays: :class:`Design` (y, X, Z blocks, weights, offset of
the rows a model uses) and :class:`DesignSpec` (formulaic's model specs and the group levels:
enough to encode new data identically), with the formulaic calls that evaluate them
(:func:`materialize`, :func:`new_matrix`, :func:`formula_offset`). Built by :mod:`.build`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from formulaic import ModelSpec, model_matrix
from formulaic.errors import DataMismatchWarning

from ..exceptions import DataError, FormulaError
from ..formula import ModelFormula, RandomTerm, plain_message
from ..formula.pyexpr import formula_names, spec_names
from . import validation as v
from .frame import for_formulaic
from .groups import GroupCoding, check_new_categories, encode_new_groups
from .rtransforms import with_r_context

__all__ = [
    "Design",
    "DesignSpec",
    "TermDesign",
    "TermSpec",
    "formula_offset",
    "materialize",
    "new_matrix",
    "resolve_spec",
]


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

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (and copied) without the model spec, built again on first use."""
        return {**self.__dict__, "_spec": None}

    def on(self, frame: pd.DataFrame) -> DeferredSpec:
        """The same spec built from ``frame`` (the same values in the columns it uses)."""
        formula, _, ctx = self._args
        return DeferredSpec(formula, frame, ctx, self._names, self._rhs)

    def get(self) -> ModelSpec:
        """The model spec (built once)."""
        if self._spec is None:
            formula, frame, ctx = self._args
            mm = materialize(formula, frame, ctx, "the formula")
            spec = mm.rhs.model_spec if self._rhs else mm.model_spec
            names = tuple(str(c) for c in spec.column_names)
            if names != self._names:  # pragma: no cover - guarded by tests/test_plainterms.py
                raise RuntimeError(f"formulaic's columns {names} differ from {self._names}")
            self._spec = spec
        return self._spec


def resolve_spec(spec: ModelSpec | DeferredSpec) -> ModelSpec:
    return spec.get() if isinstance(spec, DeferredSpec) else spec


@dataclass(frozen=True)
class TermSpec:
    """Recipe of one random-effects term (enough to encode new data)."""

    term: RandomTerm
    columns: tuple[str, ...]
    spec_source: ModelSpec | DeferredSpec
    coding: GroupCoding
    variables: tuple[str, ...]
    aliases: tuple[str, ...] = ()  # the columns' names in the other naming scheme

    @property
    def spec(self) -> ModelSpec:
        """formulaic's model spec of the term's columns."""
        return resolve_spec(self.spec_source)

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
    names: str = "formulaic"  # the naming scheme of fixed_names and the terms' columns
    aliases: tuple[str, ...] = ()  # fixed_names in the other scheme
    term_labels: Mapping[str, str] = field(default_factory=dict)  # formulaic term -> label

    @property
    def fixed_spec(self) -> ModelSpec:
        """formulaic's model spec of the fixed-effects columns (before aliased ones are
        dropped)."""
        return resolve_spec(self.fixed_spec_source)

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
        X = new_matrix(self.fixed_spec, data, "fixed effects", self.context)
        return X[:, list(self.kept_columns)]

    def term_matrix(self, i: int, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Columns (m, k), level codes (m,) (-1: not fitted) and missing-group mask of term i."""
        term = self.terms[i]
        Z = new_matrix(term.spec, data, f"random-effects term {term.term.source!r}", self.context)
        codes, missing = encode_new_groups(term.coding, data)
        return Z, codes, missing

    def offset(self, data: pd.DataFrame) -> np.ndarray:
        """Offset of new data from the formula's ``offset()`` terms, shape (m,)."""
        return formula_offset(self.formula, data, self.context)


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


def assembled(
    y: np.ndarray,
    X: np.ndarray,
    terms: tuple[TermDesign, ...],
    weights: np.ndarray | None,
    offset: np.ndarray,
    rows: np.ndarray,
    n_dropped: int,
    dropped_fixed: tuple[str, ...],
    spec: DesignSpec,
    frame: pd.DataFrame | None,
) -> Design:
    """``Design(...)`` without the frozen dataclass's ``__init__`` (a third of its cost), for
    the designs every reused fit assembles from checked arrays (:mod:`.reuse`,
    :mod:`.canonical`; issue 15)."""
    design = object.__new__(Design)
    design.__dict__.update(
        y=y, X=X, terms=terms, weights=weights, offset=offset, rows=rows, n_dropped=n_dropped,
        dropped_fixed=dropped_fixed, spec=spec, frame=frame,
    )  # fmt: skip
    return design


def materialize(formula: str, frame: pd.DataFrame, ctx: Mapping[str, Any], where: str) -> Any:
    frame = for_formulaic(frame, *formula_names(formula))
    try:
        return model_matrix(formula, frame, context=with_r_context(dict(ctx)), na_action="ignore")
    except (FormulaError, DataError):
        raise
    except Exception as err:
        v.check_numeric_expressions(formula, frame)  # names the text column if that was the cause
        msg = f"cannot evaluate {where} {formula!r}: {plain_message(err)}"
        raise FormulaError(msg) from None


def formula_offset(
    formula: ModelFormula, frame: pd.DataFrame, ctx: Mapping[str, Any]
) -> np.ndarray:
    total = np.zeros(len(frame))
    for expr in formula.offsets:
        v.check_numeric_expressions(f"offset({expr})", frame)
        values = np.asarray(materialize(f"0 + I({expr})", frame, ctx, "offset"), dtype=float)
        if values.shape != (len(frame), 1):
            raise DataError(f"offset({expr}) must give one number per row")
        total += values.ravel()
    return total


def new_matrix(
    spec: ModelSpec, data: pd.DataFrame, what: str, ctx: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Model matrix of new rows; a category the fit never saw is an error, not zeros.

    ``ctx`` is the formula context of the fit (R's functions are always there)."""
    factors = [(f.expr, f.eval_method.value) for term in spec.formula for f in term.factors]
    data = for_formulaic(data, *spec_names(factors))
    check_new_categories(spec, data, what)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)
        try:
            matrix = spec.get_model_matrix(
                data, context=with_r_context(dict(ctx or {})), na_action="ignore"
            )
            return np.asarray(matrix, dtype=float)
        except DataMismatchWarning as err:
            raise DataError(f"new data for the {what}: {err}") from None
