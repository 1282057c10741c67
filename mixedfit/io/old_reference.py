"""Files saved before mixedfit took nlme's reference level (:mod:`mixedfit.covariance.reference`).

Until then σ̂ was the sd of another level than nlme's: a VarIdent's reference was the stratum of
the data's first row (of the first row after a sort by the correlation's subject, with a
correlation), ignoring the random-effects groupings; the variances of a heterogeneous
correlation (CSH, ARH, …) and of an unstructured one took the first time level (the unstructured
structure named them ``sd ratio 1``, ``sd ratio 2``, …). The stored φ̂ of such a file means
another point under today's binding, so it no longer reproduces its fit.

:func:`old_model` binds the structure as that code did. When the stored estimates reproduce
under it (the file is genuine, not altered), :func:`refit` fits the stored data again with
today's reference level: the same model (the same likelihood, β̂ and fitted covariance; σ̂ and
the ratios relative to another level), loaded with a :class:`~mixedfit.exceptions.
MixedFitWarning` that says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..covariance import Combined, ResidualStructure
from ..engine.residual import ResidualFit, fit_residual
from ..engine.residual.by import ByCorrelation
from ..engine.residual.correlation import CorrelationPart
from ..engine.residual.criterion import ResidualCriterion
from ..engine.residual.structure import ResidualModel
from ..engine.residual.unstructured import UnstructuredPart
from ..engine.residual.variance import IdentPart, ProductVariance, VariancePart
from ..engine.reterm import ReTerm
from ..engine.solution import solve
from ..engine.threads import single_threaded
from ..exceptions import MixedFitError, MixedFitWarning
from . import jsoncodec as codec
from .fitcheck import ESTIMATE_RTOL, compare_estimates

__all__ = ["old_model", "refit", "reproduces"]


def old_model(
    structure: ResidualStructure, frame: pd.DataFrame, today: ResidualModel
) -> ResidualModel | None:
    """The structure bound to ``frame`` with the reference levels of the earlier format; None
    when they are those of ``today``'s binding (a file that does not reproduce is then altered,
    not old)."""
    bound = structure.bind(frame, ())  # sorted by the subject only: the earlier VarIdent rule
    model = bound.model
    corr = _first_level(model.correlation)
    spec = structure.correlation if isinstance(structure, Combined) else structure
    var = model.variance
    if getattr(spec, "heterogeneous", False) and getattr(spec, "by", None) is None:
        var = _first_time_level(var)  # the time strata (the first variance part)
    old = ResidualModel(model.n, bound.subject, corr, var)
    return None if _references(old) == _references(today) else old


def _first_level(corr: CorrelationPart | None) -> CorrelationPart | None:
    """An unstructured part (one per ``by=`` group) with the first time level as reference."""
    if isinstance(corr, UnstructuredPart):
        return corr.with_reference(0)
    if isinstance(corr, ByCorrelation):
        parts = [_first_level(p) or p for p in corr.parts]
        return ByCorrelation(parts, corr.group, corr.labels)
    return corr


def _first_time_level(var: VariancePart | None) -> VariancePart | None:
    if isinstance(var, IdentPart):
        return var.with_reference(0)
    if isinstance(var, ProductVariance) and isinstance(var.parts[0], IdentPart):
        return ProductVariance([_first_time_level(var.parts[0]), *var.parts[1:]])  # type: ignore[list-item]
    return var


def _references(model: ResidualModel) -> list[int]:
    out: list[int] = []
    corr, var = model.correlation, model.variance
    for part in getattr(corr, "parts", [corr]):
        if isinstance(part, UnstructuredPart):
            out.append(part.reference)
    for vpart in getattr(var, "parts", [var]):
        if isinstance(vpart, IdentPart):
            out.append(vpart.reference)
    return out


def reproduces(
    model: ResidualModel,
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    document: Mapping[str, Any],
    where: str,
) -> bool:
    """True if the stored criterion, β̂, σ̂, b̂ and the structure's parameters (by position:
    the earlier names differ) are those of ``model`` at the stored x = (θ̂, φ̂)."""
    crit = ResidualCriterion(terms, X, y, model)
    n_theta = crit.n_theta
    theta, phi = x[:n_theta], x[n_theta:]
    reml = bool(document["model"]["reml"])
    try:
        with single_threaded():
            objective = crit.objective(x, reml)
            solution = solve(crit.factor_at(phi), theta, reml)
        compare_estimates(document["estimates"], solution, objective, where)
    except (MixedFitError, np.linalg.LinAlgError):
        return False
    stored = document["residual"]["params"]
    mine = list(model.report(phi).values())
    if not isinstance(stored, dict) or len(stored) != len(mine):
        return False
    saved = [codec.unscalar(v) for v in stored.values()]
    return all(
        abs(s - v) <= ESTIMATE_RTOL * max(1.0, abs(v)) for s, v in zip(saved, mine, strict=True)
    )


def refit(
    terms: list[ReTerm],
    X: np.ndarray,
    y: np.ndarray,
    model: ResidualModel,
    reml: bool,
    names: Sequence[str],
    where: str,
) -> ResidualFit:
    """The stored data fitted again with today's binding ``model``, with the warning that says
    why (a file of the earlier format, :func:`reproduces` under :func:`old_model`)."""
    warnings.warn(
        f"the fit saved in {where} was saved by an earlier mixedfit whose reference level "
        "(the level whose sd is sigma, its ratio 1) was not nlme's: it was fitted again from "
        "the saved data with nlme's reference level (the same likelihood and fixed effects; "
        "sigma and the sd ratios are now relative to nlme's level). Save it again to store "
        "this fit",
        MixedFitWarning,
        stacklevel=5,
    )
    return fit_residual(terms, X, y, model, reml=reml, names=names)
