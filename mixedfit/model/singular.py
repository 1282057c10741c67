"""Which random-effects terms are on the boundary: lme4's ``isSingular`` for every term.

lme4 judges a fit singular when a diagonal entry of a term's relative covariance factor T (the
Cholesky factor of its covariance over σ²) is below 1e-4 (``isSingular(tol = 1e-4)``): the
term's covariance matrix is then (nearly) singular. For an ordinary term that is a column's
variance at 0 or a correlation at ±1; for a structured term (``ar1``, ``cs``, ``toep``, ``diag``
with ``hom=False``) T is a function of its parameters and the same test covers every way its
covariance can be singular: an sd at 0, a correlation at ±1 (ar1's ρ, cs's ρ at 1 or at its
lower end −1/(k−1)), or a Toeplitz matrix with a zero eigenvalue (a partial autocorrelation at
±1). Ordinary terms are named by their small columns as lme4 names them; structured terms by
what is singular in them (lme4 2.x and glmmTMB users read ``isSingular`` that way).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..design.spec import TermSpec
from ..engine.reterm import ReTerm

__all__ = ["SINGULAR_TOL", "is_singular", "singular_terms", "term_keys"]

SINGULAR_TOL = 1e-4
"""lme4's ``isSingular()`` tolerance on the diagonal of T."""


def term_keys(specs: Sequence[TermSpec]) -> list[str]:
    """Unique names of the terms: a repeated grouping factor gets ``.1``, ``.2`` (as lme4)."""
    seen: dict[str, int] = {}
    keys = []
    for spec in specs:
        count = seen.get(spec.name, 0)
        keys.append(spec.name if count == 0 else f"{spec.name}.{count}")
        seen[spec.name] = count + 1
    return keys


def is_singular(templates: Sequence[np.ndarray], tol: float = SINGULAR_TOL) -> bool:
    """True if some term's T has a diagonal entry below ``tol``."""
    return any(bool(np.any(np.diag(T) < tol)) for T in templates)


def singular_terms(
    keys: Sequence[str],
    specs: Sequence[TermSpec],
    terms: Sequence[ReTerm],
    templates: Sequence[np.ndarray],
    tol: float = SINGULAR_TOL,
) -> list[str]:
    """Descriptions of the terms whose T has a diagonal entry below ``tol``.

    Parameters
    ----------
    keys : sequence of str
        The terms' names (``Subject``, ``Subject.1``).
    specs : sequence of TermSpec
        Their design specs (column names).
    terms : sequence of ReTerm
        Their engine terms (the structure, if any).
    templates : sequence of ndarray
        Their factors T (k×k lower triangular).
    tol : float

    Returns
    -------
    list of str
        ``"Batch: (Intercept)"`` for an ordinary term (its small columns);
        ``"Subject: ar1 covariance singular (sd 0: occfo1; correlation 1)"`` for a structured one.
    """
    out = []
    for key, spec, term, T in zip(keys, specs, terms, templates, strict=True):
        small = np.diag(T) < tol
        if not small.any():
            continue
        cols = list(spec.columns)
        if term.structure is None:
            out.append(f"{key}: {', '.join(c for c, s in zip(cols, small, strict=True) if s)}")
        else:
            out.append(f"{key}: {term.structure.kind} covariance singular ({_why(T, cols, tol)})")
    return out


def _why(T: np.ndarray, cols: list[str], tol: float) -> str:
    """What makes a structured term's T T' singular: zero sds, a correlation of ±1, or else a
    zero eigenvalue of its correlation matrix."""
    S = T @ T.T
    sd = np.sqrt(np.clip(np.diag(S), 0.0, None))
    zero = sd < tol
    parts = []
    if zero.any():
        parts.append("sd 0: " + ", ".join(c for c, z in zip(cols, zero, strict=True) if z))
    keep = np.flatnonzero(~zero)
    if len(keep) > 1:
        C = S[np.ix_(keep, keep)] / np.outer(sd[keep], sd[keep])
        off = C[~np.eye(len(keep), dtype=bool)]
        worst = float(off[np.argmax(np.abs(off))])
        if abs(worst) > 1 - tol:
            parts.append(f"correlation {worst:+.0f}")
        elif np.linalg.eigvalsh(C)[0] < tol:
            parts.append("a zero eigenvalue of its correlation matrix")
    return "; ".join(parts) if parts else "a zero eigenvalue"
