"""emmeans' reference grid of a fit: every combination of the levels of the factors of the fixed
part, each covariate at its mean over the rows the model used (or at values given by ``at=``),
and the matrices that average its rows into estimated marginal means.

Public: :class:`RefGrid`, :func:`reference_grid`, :func:`emm_matrix`, :func:`level_labels`.

A variable is a factor when its column is not numeric (categorical, text, boolean) or when the
formula wraps it in ``factor()``/``as.factor()``/``C()`` (emmeans treats ``factor(x)`` the same
way). Means over factors not named in ``specs`` use equal weights (emmeans' default
``weights = "equal"``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..exceptions import MixedFitError

if TYPE_CHECKING:
    from ..design.spec import Design

__all__ = ["RefGrid", "emm_matrix", "level_labels", "reference_grid"]

_FACTOR_CALL = re.compile(r"^\s*(?:factor|as\.factor|C)\(\s*`?([^(),`]+?)`?\s*(?:,.*)?\)\s*$")
_PARENS = re.compile(r"[-+/*]")  # emmeans' option "parens": such levels are parenthesised


@dataclass(frozen=True)
class RefGrid:
    """The reference grid.

    Attributes
    ----------
    levels : dict of str to list
        The values of each variable the grid varies (factors' levels, ``at=`` lists), in the
        order of the model's variables.
    factors : tuple of str
        The grid variables that are factors (their labels may be prefixed by name in contrasts).
    grid : pandas.DataFrame
        One row per combination, the first variable varying fastest (as R's ``expand.grid``).
    X : ndarray, shape (len(grid), p)
        Fixed-effects rows of the grid.
    """

    levels: dict[str, list[Any]]
    factors: tuple[str, ...]
    grid: pd.DataFrame
    X: np.ndarray


def _model_frame(fit: Any) -> pd.DataFrame:
    frame = fit._design.frame
    if frame is None:
        frame = getattr(fit, "_frame", None)
    if frame is None:  # pragma: no cover - every fit keeps its model frame
        raise MixedFitError("this fit has no model frame; refit it to compute emmeans")
    return frame


def _wrapped_factors(design: Design) -> set[str]:
    """Numeric variables the formula codes as factors (``factor(x)``, ``C(x)``)."""
    try:
        keys = getattr(design.spec.fixed_spec, "factor_contrasts", {}) or {}
    except Exception:  # pragma: no cover - the spec was built for the fit
        return set()
    found = set()
    for key in keys:
        m = _FACTOR_CALL.match(str(key))
        if m:
            found.add(m.group(1).strip())
    return found


def _is_factor(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _levels(column: pd.Series) -> list[Any]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(pd.unique(column.dropna()).tolist())


def _at_values(name: str, values: Any, levels: list[Any] | None) -> list[Any]:
    vals = (
        list(values)
        if isinstance(values, Sequence | np.ndarray | pd.Index) and not isinstance(values, str)
        else [values]
    )
    if not vals:
        raise MixedFitError(f"at={{{name!r}: ...}} is empty; give at least one value")
    if levels is not None:
        text = {str(v): v for v in levels}
        unknown = [v for v in vals if str(v) not in text]
        if unknown:
            raise MixedFitError(
                f"at={{{name!r}: ...}}: {unknown} are not levels of {name!r} (levels: {levels})"
            )
        return [text[str(v)] for v in vals]
    return [float(v) for v in vals]


def reference_grid(
    fit: Any, at: Mapping[str, Any] | None = None, covariates: Sequence[str] = ()
) -> RefGrid:
    """emmeans' reference grid of ``fit`` (``ref_grid(fit, at = at)``).

    Parameters
    ----------
    fit : MixedModelFit or ResidualModelFit
    at : mapping, optional
        Values of covariates (numbers) or a subset of a factor's levels.
    covariates : sequence of str
        Covariates to keep as grid variables (at their mean unless in ``at``), so that they
        can index the means (``emmeans(fit, ~ Days)`` gives one row at the mean of Days).

    Raises
    ------
    MixedFitError
        ``at`` names a variable the fixed part does not use, or a level the factor lacks.
    """
    design: Design = fit._design
    frame = _model_frame(fit)
    variables = [v for v in design.spec.fixed_variables if v in frame.columns]
    at = dict(at or {})
    unknown = sorted(set(at) - set(variables))
    if unknown:
        raise MixedFitError(
            f"at= names {unknown}, not variables of the fixed effects (they are {variables})"
        )
    wrapped = _wrapped_factors(design)
    levels: dict[str, list[Any]] = {}
    factors: list[str] = []
    constants: dict[str, Any] = {}
    for v in variables:
        column = frame[v]
        is_factor = _is_factor(column) or v in wrapped
        lev = _levels(column) if is_factor else None
        if v in at:
            levels[v] = _at_values(v, at[v], lev)
        elif is_factor:
            levels[v] = lev if lev is not None else []
        elif v in covariates:
            levels[v] = [float(np.mean(np.asarray(column, dtype=float)))]
        else:
            constants[v] = float(np.mean(np.asarray(column, dtype=float)))
        if is_factor:
            factors.append(v)
    names = list(levels)
    combos = [c[::-1] for c in itertools.product(*(levels[n] for n in reversed(names)))]
    grid = pd.DataFrame(combos, columns=names) if names else pd.DataFrame(index=[0])
    data = grid.copy()
    for v in names:
        if isinstance(frame[v].dtype, pd.CategoricalDtype):
            data[v] = pd.Categorical(grid[v], categories=frame[v].cat.categories)
    for v, value in constants.items():
        data[v] = value
    X = design.spec.fixed_matrix(data)
    return RefGrid(levels, tuple(factors), grid, X)


def emm_matrix(ref: RefGrid, variables: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of L averaging the grid over the variables not in ``variables`` (equal weights).

    Returns
    -------
    cells : pandas.DataFrame
        One row per combination of ``variables``, the first varying fastest.
    L : ndarray, shape (len(cells), p)
    """
    for v in variables:
        if v not in ref.levels:
            raise MixedFitError(
                f"{v!r} is not a factor of the fixed effects nor a covariate given in at= "
                f"(grid variables: {list(ref.levels)})"
            )
    vs = list(variables)
    combos = [c[::-1] for c in itertools.product(*(ref.levels[n] for n in reversed(vs)))]
    cells = pd.DataFrame(combos, columns=vs) if vs else pd.DataFrame(index=[0])
    L = np.empty((len(cells), ref.X.shape[1]))
    for i, combo in enumerate(combos if vs else [()]):
        mask = np.ones(len(ref.grid), dtype=bool)
        for v, value in zip(vs, combo, strict=True):
            mask &= (ref.grid[v] == value).to_numpy()
        L[i] = ref.X[mask].mean(axis=0)
    return cells, L


def _format(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.15g}"
    return str(value)


def _is_num(values: Sequence[Any]) -> bool:
    try:
        [float(_format(v)) for v in values]
    except ValueError:
        return False
    return True


def level_labels(ref: RefGrid, cells: pd.DataFrame, variables: Sequence[str]) -> list[str]:
    """emmeans' labels of cells in contrasts: levels joined by spaces, numeric levels prefixed
    by the variable's name (``temperature185``), parenthesised when they contain - + / *."""
    parts = []
    for v in variables:
        values = [_format(x) for x in cells[v]]
        prefix = v if _is_num(ref.levels[v]) else ""
        parts.append([prefix + x for x in values])
    labels = [" ".join(p) for p in zip(*parts, strict=True)] if parts else [""] * len(cells)
    return [f"({lab})" if _PARENS.search(lab) else lab for lab in labels]
