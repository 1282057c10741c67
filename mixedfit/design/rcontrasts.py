"""R's ``C(f, contr, how.many, ...)`` and ``contr.*`` functions for formulas (design stage).

:func:`C` replaces formulaic's ``C`` in the evaluation context (:mod:`.rtransforms`) and codes a
factor as R's ``stats::C`` does, so that the columns, their values and R's names
(:mod:`.rnames`) are R's:

* an abbreviation (``C(f, sum)``, quoted by the formula stage: :mod:`mixedfit.formula.rcontrasts`)
  or a string ``C(f, "contr.sum")`` is the contrast function *by name*: R calls it with the
  factor's levels, so treatment and SAS contrasts are named after the levels
  (``C(f, treatment)B``), sum and Helmert contrasts numbered (``C(f, sum)1``), polynomial ones
  ``.L``, ``.Q``, ``.C``, ``^4``;
* a bare function ``C(f, contr.treatment)`` is called with the number of levels: columns
  ``2``, ``3`` (R's numbering of ``contr.treatment(3)``), as is a name or function with
  ``how.many`` or further arguments (``C(f, sum, 1)``: the first column only;
  ``C(f, contr.treatment, base = 2)``);
* a call ``contr.treatment(3, base = 2)`` (a number of levels, or a vector of level names, as
  first argument) is R's contrast matrix, named as R names it (``1``, ``3``);
* a matrix (a NumPy array or a pandas DataFrame from ``context=``) gives its columns, named after
  the DataFrame's columns or numbered;
* with no intercept (``0 + C(f, sum)``) the factor is coded by indicators of every level, as R.

formulaic's own contrasts (``Sum``, ``Treatment("b")``, ``contr.treatment("b")`` with a level,
``contr.diff``, dictionaries) are passed to formulaic unchanged. R's padding of a matrix with
fewer than k − 1 columns (an orthogonal complement) is not reproduced: such a matrix is an error.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from formulaic.transforms import contrasts as _formulaic
from formulaic.transforms.contrasts import Contrasts, ContrastsRegistry

from ..exceptions import FormulaError
from ..formula.rcontrasts import R_ABBREVIATIONS
from .rcontr import R_CONTRASTS, RMatrix

__all__ = ["C", "RContrasts", "bare_abbreviation", "contr", "keeps_call"]

#: R's further arguments of each contrast function (besides n), for errors.
_OPTIONS: dict[str, tuple[str, ...]] = {
    "contr.treatment": ("base", "contrasts", "sparse"),
    "contr.sum": ("contrasts", "sparse"),
    "contr.helmert": ("contrasts", "sparse"),
    "contr.poly": ("scores", "contrasts", "sparse"),
    "contr.SAS": ("contrasts", "sparse"),
}
_FORMULAIC = {
    "contr.treatment": ContrastsRegistry.treatment,
    "contr.sum": ContrastsRegistry.sum,
    "contr.helmert": ContrastsRegistry.helmert,
    "contr.poly": ContrastsRegistry.poly,
    "contr.SAS": ContrastsRegistry.SAS,
}


@dataclass(frozen=True)
class RContrastFunction:
    """``contr.sum`` and the like in a formula: bare, R's function (``C(f, contr.sum)``);
    called with a number of levels or level names first, R's matrix
    (``contr.treatment(3, base = 2)``); called otherwise, formulaic's contrasts
    (``contr.treatment("b")``: level ``b`` is the base)."""

    name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        first = args[0] if args else None
        number = isinstance(first, int | np.integer) and not isinstance(first, bool)
        if number or isinstance(first, list | tuple | np.ndarray):
            try:
                return R_CONTRASTS[self.name](*args, **kwargs)
            except TypeError as err:
                raise FormulaError(f"{self.name}(...): {err}") from None
        return _FORMULAIC[self.name](*args, **kwargs)


class _Registry:
    """``contr`` in formulas: R's functions, and formulaic's ``contr.diff``/``contr.custom``."""

    treatment = RContrastFunction("contr.treatment")
    sum = RContrastFunction("contr.sum")
    helmert = RContrastFunction("contr.helmert")
    poly = RContrastFunction("contr.poly")
    SAS = RContrastFunction("contr.SAS")
    diff = ContrastsRegistry.diff
    custom = ContrastsRegistry.custom


contr = _Registry()


class RContrasts(Contrasts):
    """formulaic contrasts computed as R's ``C()``: from a contrast function (by name, called with
    the levels; or called with their number and R's further arguments) or a matrix, keeping the
    first ``how_many`` columns. With full rank (no intercept) every level gets its indicator."""

    def __init__(
        self,
        spec: str | RMatrix,
        *,
        by_levels: bool = True,
        how_many: int | None = None,
        options: dict[str, Any] | None = None,
        label: str = "C()",
    ) -> None:
        self.spec = spec
        self.label = label  # the call as R would show it, for errors: C(recipe, sum, 5)
        self.by_levels = by_levels
        self.how_many = how_many
        self.options = dict(options or {})

    def __repr__(self) -> str:
        return f"RContrasts({self.spec!r}, how_many={self.how_many!r})"

    def coding(self, levels: Sequence[Any]) -> RMatrix:
        """R's contrast matrix of a factor with ``levels`` (its first ``how_many`` columns)."""
        names = [str(level) for level in levels]
        value = self._matrix(names)
        k, m = len(names), value.values.shape[1]
        if value.values.shape[0] != k:
            raise FormulaError(
                f"{self.label}: the contrast matrix has {value.values.shape[0]} rows but the "
                f"factor has {k} levels {names}: R's 'wrong number of contrast matrix rows'"
            )
        wanted = k - 1 if self.how_many is None else self.how_many
        if not 1 <= wanted <= m:
            raise FormulaError(
                f"{self.label}: {wanted} contrast column(s) asked of a matrix with {m} for a "
                f"factor with {k} levels; give as many columns as wanted (at most levels - 1): "
                "R pads a matrix with too few columns by an orthogonal complement, which "
                "mixedfit does not"
            )
        names_out = value.names[:wanted] if value.names else None
        return RMatrix(np.asarray(value.values[:, :wanted], dtype=float), names_out)

    def _matrix(self, names: list[str]) -> RMatrix:
        if isinstance(self.spec, RMatrix):
            return self.spec
        function = R_CONTRASTS[self.spec]
        try:
            return function(names if self.by_levels else len(names), **self.options)
        except TypeError as err:
            raise FormulaError(
                f"{self.label}: {self.spec}() takes n, {', '.join(_OPTIONS[self.spec])} "
                f"(R's arguments), not {', '.join(self.options)} ({err})"
            ) from None

    @Contrasts.override
    def _get_coding_matrix(
        self, levels: Sequence[Any], reduced_rank: bool = True, sparse: bool = False
    ) -> Any:
        values = self.coding(levels).values if reduced_rank else np.eye(len(levels))
        if sparse:
            import scipy.sparse as sp

            return sp.csc_matrix(values)
        return values

    @Contrasts.override
    def get_coding_column_names(
        self, levels: Sequence[Any], reduced_rank: bool = True
    ) -> Sequence[Any]:
        if not reduced_rank:
            return [str(level) for level in levels]
        value = self.coding(levels)
        return list(value.names or (str(j) for j in range(1, value.values.shape[1] + 1)))

    @Contrasts.override
    def get_coefficient_row_names(
        self, levels: Sequence[Any], reduced_rank: bool = True
    ) -> Sequence[Any]:
        return self.get_coding_column_names(levels, reduced_rank)


def C(
    data: Any,
    contrasts: Any = None,
    how_many: Any = None,
    *,
    levels: Any = None,
    spans_intercept: bool = True,
    contr: Any = None,
    **options: Any,
) -> Any:
    """R's ``C(object, contr, how.many, ...)`` (and formulaic's ``C(data, contrasts, levels=)``):
    ``data`` marked as a factor coded by the contrasts (see the module docstring)."""
    if contrasts is not None and contr is not None:
        raise FormulaError("C(): give the contrasts once (contr = or the second argument)")
    spec = contr if contrasts is None else contrasts
    count = _how_many(how_many)
    if spec is None and count is None and not options:
        return _formulaic.C(data, levels=levels, spans_intercept=spans_intercept)
    label = _label(data, spec, count)
    coding = _r_contrasts("contr.treatment" if spec is None else spec, count, options, label)
    if coding is None:  # formulaic's contrasts, as before
        if count is not None or options:
            raise FormulaError(
                f"C(): how.many and further arguments work with R's contrasts (an abbreviation "
                f"such as sum, a contr.* function or a matrix), not with {spec!r}"
            )
        return _formulaic.C(data, spec, levels=levels, spans_intercept=spans_intercept)
    return _formulaic.C(data, coding, levels=levels, spans_intercept=spans_intercept)


def _how_many(value: Any) -> int | None:
    if value is None:
        return None
    number = isinstance(value, int | np.integer | float) and not isinstance(value, bool)
    if number and float(value) == int(value) and int(value) >= 1:
        return int(value)
    raise FormulaError(f"C(): how.many must be a positive whole number, not {value!r}")


def _label(data: Any, spec: Any, how_many: int | None) -> str:
    """``C(recipe, sum, 2)``: the call as R shows it, as well as can be told from the values."""
    name = getattr(data, "name", None)
    parts = [name if isinstance(name, str) else "f"]
    if isinstance(spec, str):
        parts.append(spec if spec in R_ABBREVIATIONS else f'"{spec}"')
    elif isinstance(spec, RContrastFunction):
        parts.append(spec.name)
    elif spec is not None:
        parts.append("<matrix>")
    parts += [] if how_many is None else [str(how_many)]
    return f"C({', '.join(parts)})"


def _r_contrasts(
    spec: Any, how_many: int | None, options: dict[str, Any], label: str
) -> RContrasts | None:
    """R's coding for ``spec``, or None for formulaic's contrasts (classes, instances, dicts)."""
    by_name = not (how_many is not None or options)
    if isinstance(spec, str):
        name = R_ABBREVIATIONS.get(spec, spec)
        if name not in R_CONTRASTS:
            known = ", ".join([*R_ABBREVIATIONS, *R_CONTRASTS])
            raise FormulaError(f"{label}: unknown contrasts {spec!r}; use one of {known}")
        return RContrasts(name, by_levels=by_name, how_many=how_many, options=options, label=label)
    if isinstance(spec, RContrastFunction):
        return RContrasts(
            spec.name, by_levels=False, how_many=how_many, options=options, label=label
        )
    if options:
        raise FormulaError(
            f"C(): further arguments ({', '.join(options)}) go to a contrast function, "
            "such as C(f, contr.treatment, base = 2), not to a matrix"
        )
    matrix = _matrix(spec)
    return None if matrix is None else RContrasts(matrix, how_many=how_many, label=label)


def _matrix(spec: Any) -> RMatrix | None:
    if isinstance(spec, RMatrix):
        return spec
    if isinstance(spec, pd.DataFrame):
        return RMatrix(spec.to_numpy(dtype=float), tuple(map(str, spec.columns)))
    if isinstance(spec, np.ndarray):
        values = spec.reshape(len(spec), -1) if spec.ndim == 1 else spec
        if values.ndim != 2 or not np.issubdtype(values.dtype, np.number):
            raise FormulaError(
                f"C(): a contrast matrix must be a 2-D numeric array, not {spec.ndim}-D "
                f"{spec.dtype}"
            )
        return RMatrix(values.astype(float))
    if isinstance(spec, Contrasts | dict | list | tuple) or (
        isinstance(spec, type) and issubclass(spec, Contrasts)
    ):
        return None
    raise FormulaError(
        f"C(): the contrasts must be an abbreviation (treatment, sum, helmert, poly, SAS), a "
        f"contr.* function or call, a matrix or formulaic's contrasts, not {type(spec).__name__}"
    )


#: formulaic's contrast classes (``C(f, Sum)``: named as R names ``contrasts = list(f = ...)``).
_FORMULAIC_CLASSES = frozenset({"Sum", "Treatment", "Helmert", "Diff", "Poly"})
_FORMULAIC_KEYWORDS = frozenset({"contrasts", "contr", "levels", "spans_intercept"})


def keeps_call(node: ast.Call) -> bool:
    """Whether R names the columns of the ``C(...)`` call ``node`` after the call as written
    (R's ``C()``: no contrasts, an abbreviation, a name, a ``contr.*`` function or R call,
    how.many or further arguments), rather than after the variable (formulaic's contrasts)."""
    keywords = {k.arg: k.value for k in node.keywords}
    spec = node.args[1] if len(node.args) >= 2 else keywords.get("contrasts", keywords.get("contr"))
    if spec is None or len(node.args) > 2 or set(keywords) - _FORMULAIC_KEYWORDS:
        return True
    if isinstance(spec, ast.Constant):
        return isinstance(spec.value, str)
    if isinstance(spec, ast.Name):
        return spec.id not in _FORMULAIC_CLASSES
    if isinstance(spec, ast.Attribute):
        return ast.unparse(spec).startswith("contr.")
    if isinstance(spec, ast.Call) and ast.unparse(spec.func).startswith("contr."):
        first = spec.args[0] if spec.args else None
        number = isinstance(first, ast.Constant) and type(first.value) is int
        return number or isinstance(first, ast.List | ast.Tuple | ast.Call)
    return isinstance(spec, ast.Call) and not (
        isinstance(spec.func, ast.Name) and spec.func.id in _FORMULAIC_CLASSES
    )


def bare_abbreviation(expr: str) -> str:
    """``expr`` with a quoted abbreviation as the contrasts of its ``C()`` call written bare, as
    R's name has it: ``C(f, 'sum')`` → ``C(f, sum)``."""
    masked = re.sub(r"`[^`]*`", lambda m: "_" * len(m.group()), expr)  # offsets kept
    try:
        node = ast.parse(masked, mode="eval").body
    except SyntaxError:
        return expr
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C"):
        return expr
    specs = [*node.args[1:2], *(k.value for k in node.keywords if k.arg in ("contr", "contrasts"))]
    for spec in specs:
        if isinstance(spec, ast.Constant) and spec.value in R_ABBREVIATIONS:
            return f"{expr[: spec.col_offset]}{spec.value}{expr[spec.end_col_offset :]}"
    return expr
