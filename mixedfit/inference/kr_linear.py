"""Covariance-linear parameters of random-effects terms for pbkrtest's Kenward–Roger
(:mod:`.kenward_roger`): which structured terms are linear in some parameters spanning all their
covariances, and each parameter's derivative entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..engine.reterm import ReTerm
    from ..engine.structures import CovStructure

__all__ = ["linear_basis", "linear_structure"]


def linear_structure(structure: CovStructure | None) -> bool:
    """True if a term's covariance σ²TT' is linear in some parameters spanning all its values:
    ordinary terms, ``diag`` (a variance per column, or one with ``hom``), ``cs(hom=True)``
    (a variance and a covariance), ``cs`` of two columns (= unstructured) and ``toep(hom=True)``
    (one covariance per lag). ``ar1``, heterogeneous ``toep`` and heterogeneous ``cs`` of more
    than two columns are not."""
    if structure is None or structure.kind == "diag":
        return True
    if structure.kind == "cs":
        return structure.hom or structure.k == 2
    return structure.kind == "toep" and structure.hom


def linear_basis(term: ReTerm, k: int) -> list[list[tuple[int, int]]]:
    """Per covariance-linear parameter of a term, the (i, j) entries of its k×k derivative
    (entries 1): pbkrtest's lower-triangle entries for an ordinary term (and cs of two
    columns), else the structure's linear parameters (see :func:`linear_structure`)."""
    structure = term.structure
    cells = [(i, j) for i in range(k) for j in range(k)]
    if structure is None or (structure.kind == "cs" and not structure.hom):
        rows, cols = term.theta_index if structure is None else np.tril_indices(k)
        return [
            [(int(i), int(i))] if i == j else [(int(i), int(j)), (int(j), int(i))]
            for i, j in zip(rows, cols, strict=True)
        ]
    if structure.kind == "diag":
        diag = [(i, i) for i in range(k)]
        return [diag] if structure.hom else [[d] for d in diag]
    if structure.kind == "cs":  # σ²_b(1 − ρ) I + σ²_b ρ J, as (variance, covariance)
        return [[c for c in cells if c[0] == c[1]], [c for c in cells if c[0] != c[1]]]
    return [[c for c in cells if abs(c[0] - c[1]) == m] for m in range(k)]  # toep(hom)
