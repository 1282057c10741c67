"""Fitting with a residual covariance structure (issue 12): :func:`gls`, the path of
``lmer(..., residual=STRUCT)``, and :class:`ResidualMixedModel`, the fitted model returned.

formula (random-effects terms optional) → design → the structure bound to the rows the model
uses → :func:`mixedfit.engine.residual.fit_residual` → :class:`~mixedfit.model.ResidualModelFit`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .covariance import ResidualStructure
from .design import build_design
from .design.validation import check_response_scale
from .engine.residual import check_nested, fit_residual
from .exceptions import ConvergenceWarning, MixedFitError
from .formula import parse_formula
from .formula.safety import check_safe_formula
from .model import ResidualModelFit, engine_terms
from .model.residual import not_implemented
from .report.residual import residual_summary_text

__all__ = ["ResidualMixedModel", "fit_with_residual", "gls"]


class ResidualMixedModel(ResidualModelFit):
    """A fitted model with a residual covariance structure, returned by :func:`gls` and by
    ``lmer(..., residual=...)``; ``print(fit)`` and ``fit.summary()`` show the text summary
    with its "Residual covariance" section. See :class:`mixedfit.model.ResidualModelFit`."""

    def __repr__(self) -> str:
        return residual_summary_text(self)

    def summary(self, ddf: str = "none") -> str:
        """The text summary (Wald z-tests; a summary with ``ddf`` other than ``"none"`` is
        planned: use :meth:`coef_table` for Satterthwaite t tests).

        Raises
        ------
        NotImplementedError
            ``ddf`` Satterthwaite or Kenward-Roger.
        """
        if not isinstance(ddf, str) or ddf.lower() != "none":
            not_implemented(f"summary(ddf={ddf!r}) (t tests with Satterthwaite / Kenward-Roger df)")
        return residual_summary_text(self)

    def coef_table(self, ddf: str = "satterthwaite", level: float = 0.95) -> pd.DataFrame:
        """Fixed-effects tests: t tests with Satterthwaite df (the default) or Wald z-tests.

        Parameters
        ----------
        ddf : {"satterthwaite", "none"}
            "satterthwaite": columns ``estimate, std_error, df, t, p, lower, upper`` as
            :meth:`mixedfit.LinearMixedModel.coef_table` (df by mmrm's / lmerTest's recipe over
            all variance parameters: σ², θ and the structure's, see
            :mod:`mixedfit.inference.residual_ddf`). "none": Wald z-tests, columns
            ``estimate, std_error, z, p, lower, upper``.
        level : float
            Confidence level of ``lower``/``upper``.

        Raises
        ------
        NotImplementedError
            ``ddf="kenward-roger"`` (planned).
        """
        if isinstance(ddf, str) and ddf.strip().lower() == "none":
            return super().coef_table(ddf="none", level=level)
        from .inference.residual_ddf import residual_coef_table

        return residual_coef_table(self, ddf=ddf, level=level)


def _structure_columns(residual: ResidualStructure) -> list[str]:
    """The columns a structure reads (time, subject, by, covariate, coordinates)."""
    parts = getattr(residual, "parts", None) or (residual,)
    out: list[str] = []
    for part in parts:
        for name in ("time", "subject", "by", "covariate", "coords"):
            value = getattr(part, name, None)
            values = [value] if isinstance(value, str) else list(value or [])
            out += [v for v in values if isinstance(v, str) and v not in out]
    return out


def _without_missing_structure_values(
    data: pd.DataFrame, residual: ResidualStructure
) -> np.ndarray | None:
    """Positions of the rows of ``data`` with every value the structure reads (R's na.omit, as
    for the formula's variables), or None if none is missing."""
    if not isinstance(data, pd.DataFrame):
        return None
    columns = [c for c in _structure_columns(residual) if c in data.columns]
    if not columns:
        return None
    missing = data[columns].isna().any(axis=1).to_numpy()
    return np.flatnonzero(~missing) if missing.any() else None


def fit_with_residual(
    formula: str,
    data: pd.DataFrame,
    residual: ResidualStructure,
    *,
    reml: bool = True,
    weights: str | Sequence[float] | np.ndarray | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
    start: Sequence[float] | np.ndarray | None = None,
    max_evals: int = 100_000,
    optimizer: str = "auto",
    safe: bool = False,
    verbose: bool = False,
) -> ResidualMixedModel:
    """The path of ``lmer(..., residual=residual)``; arguments as :func:`mixedfit.lmer`.

    Raises
    ------
    MixedFitError
        ``residual`` is not a structure; ``weights``, ``start``, ``optimizer`` other than
        "auto"/"bobyqa" or ``verbose`` given (not supported with a residual structure yet).
    NotImplementedError
        Never for the supported arguments.
    """
    if not isinstance(residual, ResidualStructure):
        raise MixedFitError(
            f"residual must be a residual structure such as mf.AR1('time', 'subject'), "
            f"not {residual!r}"
        )
    for name, value in (("weights", weights), ("start", start)):
        if value is not None:
            raise MixedFitError(
                f"{name}= is not supported with residual= yet (use a variance function "
                "such as mf.VarIdent for unequal variances)"
            )
    if optimizer not in ("auto", "bobyqa") or verbose:
        raise MixedFitError("residual= fits use BOBYQA without progress reports (verbose) yet")
    parsed = parse_formula(formula, allow_no_random=True)
    for term in parsed.random:
        if term.structure and not (term.structure == "diag" and not term.hom):
            raise NotImplementedError(
                f"structured random-effects term {term.source!r} with residual= is not "
                "implemented yet: use it without residual= (mf.lmer), or write the term as "
                "'(expr | group)' / 'diag(expr | group)'"
            )
    if safe:
        columns = data.columns if isinstance(data, pd.DataFrame) else None
        parsed = check_safe_formula(parsed, columns)
    kept = _without_missing_structure_values(data, residual)
    used = data if kept is None else data.iloc[kept]
    design = build_design(parsed, used, offset=offset, context=context)
    if kept is not None:  # rows positioned in the caller's data, as without residual=
        design = dataclasses.replace(
            design, rows=kept[design.rows], n_dropped=design.n_dropped + len(data) - len(kept)
        )
    check_response_scale(design.spec.formula.response, design.y - design.offset)
    frame = data.iloc[design.rows]
    bound = residual.bind(frame.reset_index(drop=True))
    terms = engine_terms(design)
    if bound.subject is not None:
        names = [t.name for t in design.spec.terms]
        check_nested(terms, bound.subject, names, str(bound.subject_column), bound.subject_labels)
    engine = fit_residual(
        terms, design.X, design.y - design.offset, bound.model, reml=reml, max_evals=max_evals
    )
    fit = ResidualMixedModel(design, engine, formula, residual, bound, frame)
    if not engine.record.converged:
        warnings.warn(
            f"the optimizer did not converge: {engine.record.message}",
            ConvergenceWarning,
            stacklevel=3,
        )
    return fit


def gls(
    formula: str,
    data: pd.DataFrame,
    residual: ResidualStructure,
    reml: bool = True,
    **options: Any,
) -> ResidualMixedModel:
    """Fit a model with a residual covariance structure (GLS / MMRM; random effects optional).

    The same call as ``mixedfit.lmer(formula, data, reml=reml, residual=residual)``.

    Parameters
    ----------
    formula : str
        The fixed part, and random-effects terms ``(expr | group)`` if any
        (``"FEV1 ~ ARMCD * AVISIT"``).
    data : pandas.DataFrame
        Rows with a missing value in a variable of the formula are dropped; the structure still
        uses each remaining row's time, so a missed visit is a gap.
    residual : ResidualStructure
        ``mf.AR1("visit", "id")``, ``mf.Unstructured(...)``, ``mf.CompoundSymmetry(...) &
        mf.VarIdent("sex")`` ...
    reml : bool, default True
    **options
        ``offset``, ``context``, ``max_evals``, ``safe`` as :func:`mixedfit.lmer`.

    Returns
    -------
    ResidualMixedModel
    """
    if not isinstance(reml, bool | np.bool_):
        raise MixedFitError(f"reml must be True or False, not {reml!r}")
    return fit_with_residual(formula, data, residual, reml=bool(reml), **options)
