"""Loading a saved fit: the checked document (see :mod:`.fitfile`) → the formula checked by safe
mode → the model frame decoded and the design rebuilt → the engine at the stored θ̂, every stored
estimate recomputed and compared (see :mod:`.fitcheck`). Used by :func:`mixedfit.load_fit`."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..design import Design, build_design, canonical_rows
from ..engine import vanishing
from ..engine.centring import CentredOptimum, Centring
from ..engine.convergence import MAX_NOBS, ConvergenceCheck, check_convergence
from ..engine.limit_gls import limit_solution
from ..engine.lmm import EngineFit, criterion_at, weighted_factor
from ..engine.optimize import OptimizerRecord
from ..engine.reterm import ReTerm
from ..engine.solution import solve
from ..engine.threads import single_threaded
from ..engine.unbounded import second_opinion, structured_entries
from ..exceptions import FormulaError, MixedFitError, RankDeficiencyWarning
from ..formula import ModelFormula, parse_formula
from ..formula.safety import check_safe_formula
from ..model import engine_terms
from . import fitfile
from . import jsoncodec as codec
from .fitcheck import (
    THETA_RTOL,
    check_diagnostics,
    check_rows,
    check_theta,
    compare_estimates,
    compare_terms,
)

__all__ = ["read", "rebuild_design", "restore"]

_FileError = codec.FileFormatError


def read(path: Path, fmt: str, latest: int, max_bytes: int, trust: bool) -> dict[str, Any]:
    """The document in ``path``, checked: size, nesting, format ``fmt``, version (at most
    ``latest``; an older one only if ``trust``) and structure."""
    document = fitfile.read_document(path, fmt, max_bytes)
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MixedFitError(f"{path} has an invalid fit format version {version!r}")
    if version > latest:
        from ..version import __version__

        writer = document.get("mixedfit_version", "unknown")
        raise MixedFitError(
            f"{path} was written by a newer mixedfit ({writer}) in fit format version "
            f"{version}; this mixedfit ({__version__}) reads fit format version "
            f"{latest}: upgrade mixedfit to load it"
        )
    if version < latest and not trust:
        raise MixedFitError(
            f"{path} is in fit format version {version}, which does not record the random "
            "effects and their levels, so loading cannot check them: if you trust the file "
            "(you saved it yourself), load it with load_fit(path, trust=True) and save it again"
        )
    try:
        fitfile.check_structure(document, version)
    except _FileError as err:
        raise MixedFitError(f"{path} is a corrupt mixedfit fit file: {err}") from None
    return document


def _check_formula(
    formula: str, columns: list[str], where: str, allow_no_random: bool = False
) -> ModelFormula:
    """The stored formula, refused unless it passes safe mode's check (``lmer(..., safe=True)``)
    on the stored columns; every stored column must be one the formula uses."""
    try:
        # (parsing evaluates nothing; a formula without random effects is parsed first)
        text = parse_formula(formula, allow_no_random=True) if allow_no_random else formula
        parsed = check_safe_formula(text, columns)
    except FormulaError as err:
        raise MixedFitError(
            f"the formula saved in {where} is not a safe formula, so loading will not evaluate "
            f"it: {err}. Loading evaluates the formula's Python on the stored data; if you "
            "trust the file (you saved it yourself, or it comes from someone you trust), load "
            "it with load_fit(path, trust=True)"
        ) from None
    return parsed


def restore(
    document: dict[str, Any], context: Mapping[str, Any] | None, trust: bool, where: str
) -> tuple[Design, EngineFit, str]:
    """The fit described by a checked document (see :func:`read`), rebuilt from its data and
    compared with its estimates: its design, engine fit and formula (the pieces of a
    :class:`mixedfit.LinearMixedModel`, which :func:`mixedfit.load_fit` builds from them).

    Raises
    ------
    MixedFitError
        Formula outside safe mode (unless ``trust``), missing context names, or estimates the
        data do not reproduce.
    FileFormatError, KeyError, TypeError, ValueError, IndexError
        Malformed values (reported by :func:`mixedfit.load_fit` as a corrupt file).
    """
    if document["model"]["class"] != "LinearMixedModel":
        raise _FileError(f"unknown model class {document['model']['class']!r}")
    if "residual" in document:
        raise _FileError("unknown field 'residual' (a LinearMixedModel has no residual structure)")
    design, _ = rebuild_design(document, context, trust, where)
    engine = _engine(document, design, document["model"]["reml"], where)
    return design, engine, document["model"]["formula"]


def rebuild_design(
    document: dict[str, Any],
    context: Mapping[str, Any] | None,
    trust: bool,
    where: str,
    *,
    extra_columns: Sequence[str] = (),
    allow_no_random: bool = False,
) -> tuple[Design, pd.DataFrame]:
    """The design rebuilt from a checked document's formula and model frame (the formula checked
    by safe mode unless ``trust``), with the stored rows, offset and response, and the decoded
    model frame. ``extra_columns``: stored columns that are not variables of the formula (a
    residual structure's); ``allow_no_random``: a formula without random-effects terms (GLS).
    """
    model, data, estimates = document["model"], document["data"], document["estimates"]
    formula, nrow = model["formula"], data["nrow"]
    names = [str(c.get("name")) for c in data["columns"]]
    if trust:
        parsed = parse_formula(formula, allow_no_random=allow_no_random)
    else:
        parsed = _check_formula(formula, names, where, allow_no_random)
    allowed = set(parsed.variables()) | set(extra_columns)
    unused = [n for n in names if n not in allowed]
    if unused or len(set(names)) != len(names):
        raise _FileError(f"the data columns {names} are not the distinct columns the formula uses")
    missing = [n for n in model["context_names"] if n not in (context or {})]
    if missing:
        raise MixedFitError(
            f"the model in {where} was fitted with formula context names {missing}, which are "
            "not saved: pass them again, load_fit(path, context={...})"
        )
    frame = pd.DataFrame({c["name"]: codec.decode_column(c, nrow) for c in data["columns"]})
    absent = [str(c) for c in frame.columns if frame[c].isna().any()]
    if absent or len(frame) != nrow:
        raise _FileError(f"the model frame has missing values (columns {absent}) or no rows")
    weights = None if data["weights"] is None else _array(data, "weights", nrow)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RankDeficiencyWarning)
            design = build_design(parsed, frame, weights=weights, context=context)
            if _formulaic_names(design, estimates):  # saved before R's names, or names=
                design = build_design(
                    parsed, frame, weights=weights, context=context, names="formulaic"
                )
    except MixedFitError as err:
        raise MixedFitError(f"cannot rebuild the model saved in {where}: {err}") from None
    rows = _array(data, "rows", nrow, "int64")
    check_rows(rows, data["n_dropped"])
    design = dataclasses.replace(
        design, offset=_array(data, "offset", nrow), rows=rows, n_dropped=data["n_dropped"]
    )
    if data["response"] is not None:
        design = dataclasses.replace(design, y=_array(data, "response", nrow))
    if not (np.isfinite(design.offset).all() and np.isfinite(design.y).all()):
        raise _FileError("the stored offset or response is not finite")
    if list(design.spec.fixed_names) != estimates["fixed_names"]:
        raise MixedFitError(
            f"the model saved in {where} rebuilds different fixed effects "
            f"{list(design.spec.fixed_names)} from the saved {estimates['fixed_names']} "
            "(the file was altered, or a different formulaic version)"
        )
    if "ranef" in estimates:
        compare_terms(design, estimates["ranef"], where)
    return design, frame


def _formulaic_names(design: Design, estimates: dict[str, Any]) -> bool:
    """Whether a saved fit names its coefficients and random-effect columns as formulaic does
    (files written before R's names, or by ``lmer(..., names="formulaic")``): its names are
    the aliases of the design built with R's names, and differ from R's."""
    spec = design.spec
    saved = (
        list(estimates.get("fixed_names", [])),
        [list(t.get("columns", [])) for t in estimates.get("ranef", [])],
    )
    ours = (list(spec.fixed_names), [list(t.columns) for t in spec.terms])
    aliases = (list(spec.aliases), [list(t.aliases) for t in spec.terms])
    return saved != ours and saved == aliases


def _array(data: dict[str, Any], key: str, n: int, dtype: str = "float64") -> np.ndarray:
    return codec.unarray(data[key], dtype, (n,), f"data.{key}")


def _engine(document: dict[str, Any], design: Design, reml: bool, where: str) -> EngineFit:
    """The engine state at the stored θ̂, every stored estimate recomputed and compared."""
    estimates = document["estimates"]
    theta = codec.unarray(estimates["theta"], "float64", where="estimates.theta")
    rows = canonical_rows(design)  # the row order lmer's engine used
    terms = engine_terms(rows)
    y = rows.y - rows.offset
    factor = weighted_factor(terms, rows.X, y, rows.weights)
    check_theta(theta, factor.layout.lower())
    centred = _centred_optimum(estimates, terms, theta, rows.X, y, rows.weights)
    with single_threaded():
        if centred is None:
            solution = solve(factor, theta, reml)
            objective = factor.current_objective(reml)
            exact = limit_solution(factor, theta, reml)  # at σ → 0, as the fit (lmm._solution)
            if exact is not None:
                solution, objective = exact
        else:  # as the fit: read off the centred columns (the original ones cancel)
            solution = centred.solve(reml)
            objective = centred.factor.current_objective(reml)
    try:
        compare_estimates(estimates, solution, objective, where)
    except MixedFitError as err:
        if centred is None and _cancelling(terms):  # an older file of such a fit
            raise MixedFitError(
                f"{err}; the model's random slope columns lie so far from 0 that the fit was "
                "read off centred columns, and this file (from an older mixedfit) stores no "
                "estimates.theta_centred to verify it there: refit the model and save it again"
            ) from None
        raise
    stored = codec.unscalar(estimates["objective"])
    record = codec.unrecord(OptimizerRecord, document["optimizer"])
    if not (np.array_equal(record.theta, theta) and record.objective == stored):
        raise _FileError("the optimizer record's theta and objective differ from the estimates")
    stored_check, gradient = document["convergence"], document["gradient"]
    check = None if stored_check is None else codec.unrecord(ConvergenceCheck, stored_check)
    check_diagnostics(record, check, theta.size)
    # as the fit: derivatives on the optimizer's centred or scaled columns (criterion_at)
    criterion = None if centred is not None else criterion_at(terms, rows.X, y, rows.weights, theta)
    # the derivative check is recomputed, not trusted: converged means θ̂ is an optimum
    # as the fit, no check at a σ → 0 limit point (θ ~ 1e4: the derivatives are noise there)
    if factor.n < MAX_NOBS and theta.size and not vanishing.at_limit(theta, factor.layout):
        at, theta_at = factor, theta
        for alt in (centred, criterion):
            if alt is not None:
                at, theta_at = alt.factor, alt.theta
        with single_threaded():
            layout = factor.layout
            check = check_convergence(lambda th: at.objective(th, reml), theta_at, layout.lower())
            if layout.structured:
                check = second_opinion(
                    check,
                    lambda th: at.objective(th, reml),
                    theta_at,
                    layout.lower(),
                    layout.upper(),
                    None,
                    structured_entries(layout),
                )
            at.update(theta_at)
    return EngineFit(
        factor=factor,
        theta=theta,
        objective=stored,
        reml=reml,
        record=record,
        solution=solution,
        check=check,
        _centred=centred,
        _criterion=criterion,
        _gradient=[] if gradient is None else [codec.unarray(gradient, "float64", theta.shape)],
    )


def _cancelling(terms: list[ReTerm]) -> bool:
    centring = Centring.of(terms)
    return centring is not None and centring.cancelling


def _centred_optimum(
    estimates: dict[str, Any],
    terms: list[ReTerm],
    theta: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
) -> CentredOptimum | None:
    """The optimum on centred slope columns that a fit whose original columns cancel was read
    off (``estimates.theta_centred``, checked to map to the stored θ̂), or None.

    A file without it (or from a fit whose columns do not cancel) is verified on the original
    columns, as the fit was."""
    stored = estimates.get("theta_centred")
    centring = Centring.of(terms)
    if centring is None or not centring.cancelling:
        if stored is not None:
            raise _FileError(
                "estimates.theta_centred is stored, but the model's random-effects columns do "
                "not lie far enough from 0 to have been fitted on centred columns"
            )
        return None
    if stored is None:
        return None  # an older file: verified on the original columns (fails if they cancel)
    theta_c = codec.unarray(stored, "float64", theta.shape, "estimates.theta_centred")
    inner = weighted_factor(centring.terms(terms), X, y, weights)
    check_theta(theta_c, inner.layout.lower())
    try:
        mapped = centring.to_original(theta_c)
    except np.linalg.LinAlgError:  # pragma: no cover - a semi-definite factor always exists
        mapped = np.full_like(theta, np.nan)
    scale = max(1.0, float(np.max(np.abs(theta), initial=0.0)))
    if not np.all(np.abs(mapped - theta) <= THETA_RTOL * scale):
        raise MixedFitError(
            "the saved fit's estimates.theta_centred does not map to its estimates.theta "
            f"({mapped.tolist()} recomputed, {theta.tolist()} stored; the file was altered)"
        )
    return CentredOptimum(centring, inner, theta_c)
