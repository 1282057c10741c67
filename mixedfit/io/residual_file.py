"""Saved fits with a residual covariance structure (``lmer(..., residual=)``, :func:`mixedfit.gls`).

The same file format as ordinary fits (:mod:`.persist`, same version), with model class
``"ResidualMixedModel"`` and one more top-level field::

    "residual": {"structure": SPEC,            # plain JSON, see .structure_codec
                 "phi": ARRAY,                 # φ̂, the structure's unconstrained parameters
                 "params": {name: float, ...}, # fit.residual.params (nlme's scale)
                 "vanished": ARRAY}            # bool over φ: the fit's vanished strata (optional)

``data.columns`` holds the formula's variables and the columns the structure reads (time,
subject, by, covariates, coordinates; categories kept as in the fit, so time positions and
levels do not move); ``estimates.theta`` is θ̂; ``optimizer`` is the record of the joint
optimization over x = (θ, φ); ``convergence`` and ``gradient`` are null. ``residual.vanished``
is the fit's verdict on VarIdent ratios whose stratum's variance vanished
(:attr:`.ResidualFit.vanished`: no derivative check, a BoundaryWarning); a file without it
(written before) has it recomputed by the fit's rule (:func:`.vanished.reloaded`).

Loading checks what :mod:`.persist` describes for ordinary fits, and more: the structure's class
is one of :data:`.structure_codec.STRUCTURES` and its fields are checked before it is built
(nothing is evaluated but the formula, after safe mode's check); the structure is bound to the
stored frame (the time, subject and nesting checks of a fit), the criterion at the stored (θ̂,
φ̂) is recomputed (relative 1e-9), and β̂, σ̂, b̂ and the structure's parameters (relative 1e-8)
must match the stored ones. The derivative check at (θ̂, φ̂) is recomputed (from
:data:`~mixedfit.engine.convergence.MAX_NOBS` rows its bound probes only, as the fit): a stored
fit whose point fails it loads with a :class:`~mixedfit.exceptions.ConvergenceWarning`; an ML CS
fit's limit point is recomputed (:mod:`.cs_limit`, its UnboundedLikelihoodWarning again). A file
saved before mixedfit took nlme's reference level, which reproduces under the earlier binding, is
fitted again from its data with a warning (:mod:`.old_reference`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..covariance import BoundResidual, ResidualStructure
from ..covariance.reference import reference_groups
from ..design import Design, build_design
from ..engine.convergence import MAX_NOBS, ConvergenceCheck, check_convergence
from ..engine.optimize import OptimizerRecord
from ..engine.residual import ResidualFit, check_nested, vanished
from ..engine.residual.attained import attained_value
from ..engine.residual.bound_probe import checked_lower, probe_check
from ..engine.residual.by_edge import edge_named
from ..engine.residual.criterion import ResidualCriterion
from ..engine.residual.cs_limit import cs_limit
from ..engine.residual.cs_ridge import ridge_check
from ..engine.residual.edge_fit import (
    edge_estimates,
    edge_message,
    edge_sign,
    factor_phi,
    term_at_bound,
    verdict_criterion,
)
from ..engine.residual.edge_vanish import hold_factor, vanished_clause
from ..engine.residual.limit import limit_estimates, limit_message
from ..engine.residual.polish import flat, not_checked, opinion
from ..engine.residual.structure import ResidualModel
from ..engine.threads import single_threaded
from ..exceptions import (
    ConvergenceWarning,
    MixedFitError,
    RankDeficiencyWarning,
    UnusedLevelWarning,
)
from ..formula import parse_formula
from ..model import ResidualModelFit, engine_terms
from . import jsoncodec as codec
from . import old_reference
from .fitcheck import ESTIMATE_RTOL, check_diagnostics, compare_estimates, design_difference
from .fitload import rebuild_design
from .structure_codec import decode_structure, encode_structure, structure_columns

__all__ = ["CLASS", "ResidualParts", "residual_document", "restore_residual"]

CLASS = "ResidualMixedModel"
_FileError = codec.FileFormatError


@dataclass(frozen=True)
class ResidualParts:
    """The pieces of a loaded residual-structure fit (the arguments of
    :class:`mixedfit.ResidualMixedModel`, which :func:`mixedfit.load_fit` builds from them)."""

    design: Design
    engine: ResidualFit
    formula: str
    structure: ResidualStructure
    bound: BoundResidual
    frame: pd.DataFrame


# =============================================================================== writing
def residual_document(fit: ResidualModelFit, header: dict[str, Any]) -> dict[str, Any]:
    """The document of a residual-structure fit; ``header``: format, version, versions."""
    design, engine = fit._design, fit._engine
    structure: ResidualStructure = fit._structure
    spec = encode_structure(structure)
    context = dict(design.spec.context)
    context_names = sorted(k for k, v in context.items() if not (k == "np" and v is np))
    wanted = set(design.spec.formula.variables()) | set(structure_columns(structure))
    used = [c for c in fit._frame.columns if str(c) in wanted]
    frame = fit._frame[used].reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    response = _check_frame(fit, frame, context)
    return {
        **header,
        "model": {
            "class": CLASS,
            "formula": fit.formula,
            "reml": bool(engine.reml),
            "context_names": context_names,
        },
        "data": {
            "nrow": len(frame),
            "columns": [codec.encode_column(name, frame[name]) for name in frame.columns],
            "weights": None,
            "offset": codec.array(design.offset),
            "response": None if response is None else codec.array(response),
            "rows": codec.array(np.asarray(design.rows, dtype=np.int64)),
            "n_dropped": int(design.n_dropped),
        },
        "estimates": {
            "theta": codec.array(np.asarray(engine.theta, dtype=float)),
            "objective": codec.scalar(float(engine.objective)),
            "fixed_names": list(design.spec.fixed_names),
            "beta": codec.array(engine.solution.beta),
            "sigma": codec.scalar(engine.solution.sigma),
            "ranef": [
                {
                    "group": spec_.name,
                    "levels": list(spec_.levels),
                    "columns": list(spec_.columns),
                    "b": codec.array(b),
                }
                for spec_, b in zip(design.spec.terms, engine.solution.b, strict=True)
            ],
        },
        "optimizer": codec.record(engine.record),
        "convergence": None,
        "gradient": None,
        "residual": {
            "structure": spec,
            "phi": codec.array(np.asarray(engine.phi, dtype=float)),
            "params": {k: codec.scalar(v) for k, v in engine.model.report(engine.phi).items()},
            "vanished": codec.array(_vanished_phi(engine)),
        },
    }


def _check_frame(
    fit: ResidualModelFit, frame: pd.DataFrame, context: Mapping[str, Any]
) -> np.ndarray | None:
    """Check that ``frame`` rebuilds the fit's design; the fit's response if it differs from
    the frame's (a fit to a new response), else None."""
    design = fit._design
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RankDeficiencyWarning)
            rebuilt = build_design(
                parse_formula(fit.formula, allow_no_random=True),
                frame,
                context=context,
                names=design.spec.names,
            )
    except MixedFitError as err:  # pragma: no cover - the fit was built from these rows
        raise MixedFitError(f"the fit's data do not rebuild the fitted model ({err})") from None
    problem = design_difference(design, rebuilt)
    if problem:  # pragma: no cover - the fit was built from these rows
        raise MixedFitError(f"the fit's data do not rebuild the fitted model: {problem} differ")
    return None if np.array_equal(design.y, rebuilt.y) else np.asarray(design.y, dtype=float)


# =============================================================================== loading
def restore_residual(
    document: dict[str, Any], context: Mapping[str, Any] | None, trust: bool, where: str
) -> ResidualParts:
    """The residual-structure fit of a checked document, rebuilt at its estimates and compared
    (its pieces).

    Raises
    ------
    MixedFitError
        As :func:`mixedfit.io.fitload.restore`, and a structure the stored data cannot carry or
        estimates of the structure that the data do not reproduce.
    FileFormatError, KeyError, TypeError, ValueError, IndexError
        Malformed values (reported by :func:`mixedfit.load_fit` as a corrupt file).
    """
    if "residual" not in document:
        raise _FileError("missing field 'residual' (a ResidualMixedModel's structure)")
    block, estimates = document["residual"], document["estimates"]
    structure = decode_structure(block["structure"])
    design, frame = rebuild_design(
        document,
        context,
        trust,
        where,
        extra_columns=structure_columns(structure),
        allow_no_random=True,
    )
    if design.weights is not None:
        raise _FileError("data.weights must be null for a fit with a residual structure")
    try:
        with warnings.catch_warnings():  # warned when the fit was made
            warnings.simplefilter("ignore", UnusedLevelWarning)
            bound = structure.bind(frame, reference_groups(design))
    except MixedFitError as err:
        raise MixedFitError(
            f"cannot rebuild the residual structure saved in {where}: {err}"
        ) from None
    terms = engine_terms(design)
    if bound.subject is not None:
        names = [t.name for t in design.spec.terms]
        check_nested(terms, bound.subject, names, str(bound.subject_column), bound.subject_labels)
    crit = ResidualCriterion(terms, design.X, design.y - design.offset, bound.model)
    theta = codec.unarray(estimates["theta"], "float64", (crit.n_theta,), "estimates.theta")
    phi = codec.unarray(block["phi"], "float64", (bound.model.size,), "residual.phi")
    x = np.concatenate([theta, phi])
    if not np.all(np.isfinite(x)) or np.any(x < crit.lower()):
        raise _FileError("estimates.theta or residual.phi is not finite or outside its bounds")
    reml = document["model"]["reml"]
    with single_threaded():
        try:
            y = design.y - design.offset
            at_edge = edge_estimates(terms, design.X, y, bound.model, x, reml)
            if at_edge is not None:  # φ = ±1 of an AR(1): the edge model's, as the fit reported
                solution, objective = at_edge
                factor = crit.factor_at(factor_phi(bound.model, phi))
                hold_factor(factor, theta, crit.layout)  # as edge_report (a vanished reference)
            else:
                factor = crit.factor_at(phi)
                solution = crit.solution(x, factor, reml)  # QR at tiny VarIdent ratios
                objective = crit.reported(x, factor, reml)  # the fit's path (CS near −1/(m−1))
                at_limit = limit_estimates(
                    terms, design.X, design.y - design.offset, x, reml, bound.model
                )
                if at_limit is not None:  # the exact σ → 0 limit's, as the fit reported
                    solution, objective = at_limit
                else:  # the attained value where the fit's safety net reported it (attained.py)
                    objective = attained_value(
                        terms, design.X, y, bound.model, x, reml, objective, factor
                    )
        except np.linalg.LinAlgError:
            raise MixedFitError(
                f"the model saved in {where} does not reproduce its fit: the residual "
                "covariance is not positive definite at the saved parameters (the file was "
                "altered)"
            ) from None
    try:
        compare_estimates(estimates, solution, objective, where)
        _compare_params(block["params"], bound.model.report(phi), where)
    except (MixedFitError, _FileError):
        y = design.y - design.offset
        with warnings.catch_warnings():  # warned when bound above
            warnings.simplefilter("ignore", UnusedLevelWarning)
            old = old_reference.old_model(structure, frame, bound.model)
        if old is None or not old_reference.reproduces(old, terms, design.X, y, x, document, where):
            raise
        names = [t.name for t in design.spec.terms]
        engine = old_reference.refit(terms, design.X, y, bound.model, reml, names, where)
        frame.index = pd.Index(design.rows)
        return ResidualParts(design, engine, document["model"]["formula"], structure, bound, frame)
    stored = codec.unscalar(estimates["objective"])
    record = codec.unrecord(OptimizerRecord, document["optimizer"])
    if not (np.array_equal(record.theta, x) and record.objective == stored):
        raise _FileError(
            "the optimizer record's theta and objective differ from the estimates "
            "(theta, then residual.phi)"
        )
    if document["convergence"] is not None or document["gradient"] is not None:
        raise _FileError("convergence and gradient must be null for a residual-structure fit")
    check_diagnostics(record, None, x.size)
    check = None
    limit = limit_message(x, crit.layout, [t.name for t in design.spec.terms], bound.model)
    edge = edge_sign(bound.model, phi)
    fun = verdict_criterion(crit, terms, design.X, design.y - design.offset, phi, reml)
    held = _held(block, bound.model, crit, x, reml, stored, fun)  # a vanished residual variance
    if edge:  # reported at φ = ±1 (edge_fit.py): no derivative check, as the fit
        bound_term = term_at_bound(theta, crit.layout)
        gone = vanished_clause(bound.model, phi)
        sign, group, others = edge_named(bound.model, phi)  # a by= group's, as the fit's
        limit = edge_message(sign, -stored / 2, None, bound_term, gone, group) + others
    elif x.size and limit is None and not held.any() and not not_checked(record):
        check = _derivative_check(crit, x, reml, record, where, factor.n < MAX_NOBS)
        crit.hold(x, factor)  # the check moved the cached factor's θ (as the fit's path)
    boundary = limit or bound.model.at_bound(phi)
    # the strata the fit named vanished (by=: at a group's edge too, as by_edge._vanished_named;
    # a plain edge fit names its own in the edge's message, edge_vanish.py, its verdict empty)
    boundary = vanished.joined(boundary, bound.model, crit.n_theta, held, phi)
    engine = ResidualFit(
        theta, phi, stored, reml, record, solution, factor, bound.model, check, boundary,
        vanished=held if held.any() else None,
    )  # fmt: skip
    engine = cs_limit(engine, terms, design.X, design.y - design.offset)  # recomputed, as a fit
    frame.index = pd.Index(design.rows)  # the fit's rows, by position in the original data
    return ResidualParts(design, engine, document["model"]["formula"], structure, bound, frame)


def _vanished_phi(engine: ResidualFit) -> np.ndarray:
    """The fit's verdict on vanished residual variances over φ (:attr:`.ResidualFit.vanished`)."""
    mask = engine.vanished
    n_theta = len(engine.theta)
    if mask is None:
        return np.zeros(len(engine.phi), dtype=bool)
    return np.asarray(mask, dtype=bool)[n_theta:]


def _held(
    block: dict[str, Any],
    model: ResidualModel,
    crit: ResidualCriterion,
    x: np.ndarray,
    reml: bool,
    stored: float,
    fun: Callable[[np.ndarray], float],
) -> np.ndarray:
    """The fit's verdict on vanished residual variances, over x = (θ, φ): as saved
    (``residual.vanished``, refused where it contradicts the point by ``fun``, the criterion the
    fit judged it by, :func:`.edge_fit.verdict_criterion`, :func:`.vanished.saved_disagrees`),
    else (a file written before it was saved) recomputed by the rule of then on the whitened
    rows' criterion, :func:`.vanished.reloaded`."""
    n_theta = crit.n_theta
    if "vanished" not in block:
        return vanished.reloaded(lambda z: crit.objective(z, reml), model, n_theta, x, stored)
    saved = codec.unarray(block["vanished"], "bool", (model.size,), "residual.vanished")
    held = np.concatenate([np.zeros(n_theta, dtype=bool), saved])
    wrong = vanished.saved_disagrees(fun, model, n_theta, x, stored, held)
    if wrong is not None:
        raise _FileError(f"residual.vanished {wrong} (the file was altered)")
    return held


def _compare_params(stored: Any, recomputed: dict[str, float], where: str) -> None:
    if not isinstance(stored, dict) or list(stored) != list(recomputed):
        raise _FileError(f"residual.params must name the structure's parameters {list(recomputed)}")
    for name, value in recomputed.items():
        saved = codec.unscalar(stored[name])
        if not abs(saved - value) <= ESTIMATE_RTOL * max(1.0, abs(value)):
            raise MixedFitError(
                f"the model saved in {where} does not reproduce its fit: the residual "
                f"structure's {name} is {value!r} at the saved parameters, the file records "
                f"{saved!r} (the file was altered)"
            )


def _derivative_check(
    crit: ResidualCriterion,
    x: np.ndarray,
    reml: bool,
    record: OptimizerRecord,
    where: str,
    full: bool,
) -> ConvergenceCheck | None:
    """lme4's derivative check at the stored (θ̂, φ̂), recomputed (not trusted): a converged
    record whose point fails it loads with a ConvergenceWarning. Without ``full`` (from
    MAX_NOBS rows) only the bound probes, as the fit (:func:`.bound_probe.probe_check`)."""
    with single_threaded():

        def fun(z: np.ndarray) -> float:
            return crit.objective(z, reml)

        if not full:
            probed = probe_check(crit, x, fun)
            if probed is None:
                return None
            check = probed
        else:
            check = _full_check(crit, x, fun)
    if check.message is not None and record.converged:
        warnings.warn(
            f"the fit saved in {where} records a converged optimizer, but at its saved "
            f"parameters {check.message}",
            ConvergenceWarning,
            stacklevel=4,
        )
    return check


def _full_check(
    crit: ResidualCriterion, x: np.ndarray, fun: Callable[[np.ndarray], float]
) -> ConvergenceCheck:
    """lme4's check with the bounds of :func:`.bound_probe.checked_lower`, as the fit's at its
    reported point (:func:`..engine.residual.polish.derivative_check`): on the ridge's
    complement (``flat``) or CS's ridge (``ridge_check``) and, where it fails, its second
    opinion (``opinion``)."""
    lower, inside = checked_lower(crit, x, fun)
    scaled = ridge_check(crit, fun, x, lower)  # CS's limit beside a variance function
    check = opinion(
        crit, fun, x, lower, scaled or check_convergence(fun, x, lower, ridge=flat(crit, x))
    )
    if inside is not None:  # the more specific cause
        return replace(check, message=inside)
    return check
