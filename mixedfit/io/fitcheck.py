"""Integrity of a loaded fit: the stored estimates against the ones recomputed from the stored
model frame at the stored θ̂.

Loading rebuilds the design from the stored data and solves the model at the stored θ̂ (no
optimization); every stored estimate must then be reproduced:

* the criterion (REML or ML) at θ̂, relative difference ≤ :data:`OBJECTIVE_RTOL`;
* β̂, σ̂ and the conditional modes b̂ of every random-effects term, each within
  :data:`ESTIMATE_RTOL` of its scale (β̂ⱼ: \\|β̂ⱼ\\| + its standard error; σ̂: σ̂; b̂: the largest
  \\|b̂\\| of its column), which a change of the response, offset, weights or θ̂ breaks at first
  order (the criterion alone, stationary at θ̂, only at second order);
* the random-effects terms' group names, levels (in order) and columns, which a relabelling of
  the stored levels changes although it leaves every number above unchanged.

A fit whose random slope columns lie so far from 0 that they cancel was read off centred
columns (:class:`mixedfit.engine.centring.CentredOptimum`); its file also stores θ̂' of those
columns, everything above is recomputed there, and θ̂' must map back to the stored θ̂ within
:data:`THETA_RTOL` of the largest θ̂ entry.

The computation is deterministic (the same arrays, single-threaded), so the tolerances only
absorb rounding differences between BLAS builds and thread counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from ..design import Design
from ..engine.convergence import ConvergenceCheck
from ..engine.optimize import OptimizerRecord
from ..engine.solution import Solution
from ..exceptions import MixedFitError
from .jsoncodec import FileFormatError, unarray

__all__ = [
    "ESTIMATE_RTOL",
    "OBJECTIVE_RTOL",
    "THETA_RTOL",
    "check_diagnostics",
    "check_rows",
    "check_theta",
    "compare_estimates",
    "compare_terms",
    "design_difference",
]

OBJECTIVE_RTOL = 1e-9  # criterion at the stored θ̂, relative to max(1, |criterion|)
ESTIMATE_RTOL = 1e-8  # β̂, σ̂, b̂, relative to their scales (see the module docstring)
THETA_RTOL = 1e-8  # θ̂ mapped back from a stored θ̂' of centred columns, relative to max |θ̂|


def check_rows(rows: np.ndarray, n_dropped: int) -> None:
    """The stored positions of the used rows: increasing, within the original data's rows."""
    if n_dropped < 0:
        raise FileFormatError(f"data.n_dropped is negative ({n_dropped})")
    n_total = len(rows) + n_dropped
    if len(rows) and (rows[0] < 0 or rows[-1] >= n_total or np.any(np.diff(rows) <= 0)):
        raise FileFormatError(
            f"data.rows must be increasing row positions between 0 and {n_total - 1} (the "
            f"{len(rows)} used and {n_dropped} dropped rows)"
        )


def check_theta(theta: np.ndarray, lower: np.ndarray) -> None:
    """The stored θ̂: one finite value per covariance parameter, within the bounds."""
    if theta.shape != lower.shape:
        raise FileFormatError(
            f"estimates.theta has {theta.size} values; the model has {lower.size}"
        )
    if not np.all(np.isfinite(theta)) or np.any(theta < lower):
        raise FileFormatError("estimates.theta is not finite or has a negative diagonal entry")


def check_diagnostics(record: OptimizerRecord, check: ConvergenceCheck | None, m: int) -> None:
    """The stored optimizer record and convergence check (not recomputed): arrays of the
    shapes the summaries and warnings use, for ``m`` covariance parameters."""
    arrays: list[tuple[str, np.ndarray | None, tuple[int, ...], str]] = [
        ("optimizer.theta_start", record.theta_start, (m,), "f"),
        ("optimizer.gradient", record.gradient, (m,), "f"),
    ]
    if check is not None:
        arrays += [
            ("convergence.gradient", check.gradient, (m,), "f"),
            ("convergence.hessian", check.hessian, (m, m), "f"),
            ("convergence.free", check.free, (m,), "b"),
        ]
    for name, value, shape, kind in arrays:
        if value is not None and (value.shape != shape or value.dtype.kind != kind):
            raise FileFormatError(f"{name} must be an array of shape {shape}")


def compare_terms(design: Design, stored: Sequence[dict[str, Any]], where: str) -> None:
    """The rebuilt random-effects terms must have the stored group names, levels and columns."""
    specs = design.spec.terms
    if len(specs) != len(stored):
        _disagree(where, f"{len(specs)} random-effects terms rebuilt, {len(stored)} stored")
    for spec, entry in zip(specs, stored, strict=True):
        rebuilt = (spec.name, list(spec.levels), list(spec.columns))
        saved = (entry["group"], entry["levels"], entry["columns"])
        for what, a, b in zip(("group name", "levels", "columns"), rebuilt, saved, strict=True):
            if a != b:
                _disagree(
                    where,
                    f"the {what} of the term for {spec.name!r}: rebuilt {_short(a)}, "
                    f"stored {_short(b)}",
                )


def compare_estimates(
    estimates: dict[str, Any], solution: Solution, objective: float, where: str
) -> None:
    """Refuse unless ``solution`` and ``objective`` (recomputed at the stored θ̂) reproduce the
    stored criterion, β̂, σ̂ and (format version ≥ 2) b̂."""
    from .jsoncodec import unscalar

    stored = unscalar(estimates["objective"])
    if not abs(objective - stored) <= OBJECTIVE_RTOL * max(1.0, abs(stored)):
        _disagree(
            where, f"the criterion at the saved theta is {objective!r}, the file records {stored!r}"
        )
    sigma = unscalar(estimates["sigma"])
    if not abs(solution.sigma - sigma) <= ESTIMATE_RTOL * abs(solution.sigma):
        _disagree(where, f"sigma is {solution.sigma!r}, the file records {sigma!r}")
    beta = unarray(estimates["beta"], "float64", solution.beta.shape, "estimates.beta")
    se = solution.sigma * np.sqrt(np.maximum(np.diag(solution.vcov_unscaled), 0.0))
    _close(beta, solution.beta, np.abs(solution.beta) + se, "the fixed effects", where)
    for i, entry in enumerate(estimates.get("ranef", [])):
        new = solution.b[i]
        b = unarray(entry["b"], "float64", new.shape, f"estimates.ranef[{i}].b")
        scale = np.maximum(np.abs(b).max(axis=0, initial=0.0), np.abs(new).max(axis=0, initial=0.0))
        _close(
            b,
            new,
            np.broadcast_to(scale, new.shape),
            f"the random effects of {entry['group']!r}",
            where,
        )


def _close(stored: np.ndarray, new: np.ndarray, scale: np.ndarray, what: str, where: str) -> None:
    bad = ~(np.abs(stored - new) <= ESTIMATE_RTOL * scale)
    if bad.any():
        i = np.unravel_index(int(np.argmax(bad)), bad.shape)
        _disagree(
            where,
            f"{what} at the saved theta: {float(new[i])!r} recomputed, {float(stored[i])!r} stored",
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _disagree(where: str, detail: str) -> NoReturn:
    raise MixedFitError(
        f"the model saved in {where} does not reproduce its fit: {detail} (the file was altered, "
        "or the data, formula context or libraries evaluate differently)"
    )


def design_difference(a: Design, b: Design) -> str:
    """What differs between two designs (ignoring the response and offset), or ''."""
    if a.X.shape != b.X.shape or not np.array_equal(a.X, b.X):
        return "the fixed-effects model matrices"
    if a.spec.fixed_names != b.spec.fixed_names or a.dropped_fixed != b.dropped_fixed:
        return "the fixed-effects names"
    if len(a.terms) != len(b.terms):
        return "the numbers of random-effects terms"
    for ta, tb, sa, sb in zip(a.terms, b.terms, a.spec.terms, b.spec.terms, strict=True):
        if sa.levels != sb.levels or sa.columns != sb.columns:
            return f"the levels or columns of {sa.name!r}"
        if not (np.array_equal(ta.refs, tb.refs) and np.array_equal(ta.Z, tb.Z)):
            return f"the random-effects arrays of {sa.name!r}"
    return ""
