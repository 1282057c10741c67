"""Structured random-effects terms (``cs``, ``ar1``, ``toep``, ``diag``) in the fitted model:
the engine's view of a term (:func:`engine_term`), the names of their parameters and the
description of each structure for VarCorr and the summary.

The parameters ψ of a structured term (its part of ``fit.theta``) are lme4 2.x's ``par``:
relative standard deviations (sd / σ; one if ``hom``) then the correlation parameters (ρ for cs
and ar1, partial autocorrelations for toep); see :mod:`mixedfit.engine.structures`.
"""

from __future__ import annotations

import numpy as np

from ..design.spec import TermSpec
from ..engine.reterm import ReTerm
from ..engine.structures import make_structure
from ..exceptions import DataError

__all__ = ["engine_term", "sd_and_correlation", "structure_notes", "theta_names"]


def sd_and_correlation(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standard deviations (k,) and correlation matrix (k, k) of a covariance matrix;
    correlations involving a zero SD are NaN."""
    sd = np.sqrt(np.maximum(np.diag(S), 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = S / np.outer(sd, sd)
    corr[np.outer(sd, sd) == 0] = np.nan
    return sd, corr


def engine_term(refs: np.ndarray, Z: np.ndarray, spec: TermSpec) -> ReTerm:
    """The engine's :class:`ReTerm` of one design term (structured or not).

    Raises
    ------
    DataError
        A cs, ar1 or toep term with fewer than 2 columns.
    """
    term, nlev = spec.term, len(spec.levels)
    if not term.structure:
        return ReTerm(refs, Z, nlev)
    k = int(Z.shape[1])
    if term.structure == "diag" and not term.hom:
        return ReTerm(refs, Z, nlev, correlated=False)  # lme4's linear fill of a diagonal T
    if term.structure != "diag" and k < 2:
        raise DataError(
            f"random-effects term {term.source or term.to_string()!r} has {k} column(s) "
            f"({', '.join(spec.columns)}): a {term.structure} structure needs at least 2, "
            f"e.g. '{term.structure}(0 + f | {term.group_name})' with a factor f"
        )
    return ReTerm(refs, Z, nlev, structure=make_structure(term.structure, k, bool(term.hom)))


def theta_names(specs: list[TermSpec], terms: tuple[ReTerm, ...]) -> list[str]:
    """Names of θ entries: ``group.column`` or ``group.column_i.column_j`` (entries of T), and
    ``group.sd``, ``group.sd_column``, ``group.rho``, ``group.pacf_m`` (structured terms)."""
    names = []
    for spec, term in zip(specs, terms, strict=True):
        if term.structure is not None:
            names += [f"{spec.name}.{label}" for label in term.structure.labels(spec.columns)]
            continue
        rows, cols = term.theta_index
        for r, c in zip(rows, cols, strict=True):
            col = spec.columns
            names.append(f"{spec.name}.{col[r]}" if r == c else f"{spec.name}.{col[r]}.{col[c]}")
    return names


def structure_notes(
    specs: list[TermSpec], terms: list[ReTerm], theta: np.ndarray, offsets: list[int]
) -> dict[str, str]:
    """Per term key (group name, repeated names get ``.1``…) the description of its structure,
    e.g. ``"ar1, ρ = 0.880"``; ordinary terms are left out (``diag`` terms say ``"diag"``)."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for spec, term, off in zip(specs, terms, offsets, strict=True):
        count = seen.get(spec.name, 0)
        key = spec.name if count == 0 else f"{spec.name}.{count}"
        seen[spec.name] = count + 1
        if term.structure is not None:
            out[key] = term.structure.describe(theta[off : off + term.npar])
        elif spec.term.structure == "diag":
            out[key] = "diag"
    return out
