"""ML with CompoundSymmetry and few largest subjects: a likelihood without a maximum whose rise
ρ resolves (issue 12, lane csml2; reviewer rv26 HIGH-1).

With K subjects of the largest size M and K ≤ the rank of their summed [Z X] columns, the fixed
(and random) effects can fit those K subject means exactly whatever y is (:mod:`.exact_cs`: not
refused). Under ML the likelihood then grows without bound as ρ → −1/(M − 1): after a finite
price for β interpolating the K means, −2ℓ falls by K log 10 per decade of t = (1 + (M − 1)ρ) /
(1 − ρ). (REML: by (K − rank) log 10, never a fall.) Whether that fall passes the interior
maximum within what ρ's double resolves depends on the data: rv26 measured it at t ~ 1e-9 to
1e-13 with 2 to 6 largest subjects (extra visits and a site factor), and lane csml's
extra_visit1 (one subject of 4 rows among 20 of 3) passes it within ρ's resolution too, while
its extra_visit2 passes it some 17 decades below (R: ``tests/reference/cov_cs_ml/cs_ml_limit.R``).
nlme's ``gls`` reports the interior local maximum in every case, and so does the fit;
:func:`cs_limit` evaluates the criterion once per such CS part at
:data:`ULPS` ulps of ρ above its limit (accurate there: the whitening comes from the eigenvalues
computed from u, :meth:`.correlation.CSPart.eigenvalues`), the other parameters at the fit's.
Higher there than at the fit: the fit carries a :class:`.result.CSLimit`, which the model stage
reports (an :class:`~mixedfit.exceptions.UnboundedLikelihoodWarning`, :func:`cs_limit_message`;
``load_fit`` recomputes it from the saved data, :mod:`mixedfit.io.residual_file`).
A fit that itself ended at that limit (no interior maximum) is refused, as :mod:`.exact_cs`
refuses a non-trivial exact fit. Arrays only.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ...exceptions import MixedFitError
from ..reterm import ReTerm
from .by import ByCorrelation
from .correlation import CSPart
from .criterion import ResidualCriterion
from .exact import _random_columns, _rank
from .result import CSLimit, ResidualFit
from .structure import ResidualModel

__all__ = [
    "AT_LIMIT",
    "NEAR_LIMIT",
    "ULPS",
    "CSLimit",
    "cs_limit",
    "cs_limit_message",
    "limit_refusal",
    "limit_u",
]

ULPS = 4.0
"""The limit point: ρ this many ulps (of 1/(M − 1)) above −1/(M − 1), t ~ 1e-15 (M = 5)."""

AT_LIMIT = 1e3
"""A fit whose t is within this factor of the limit point's ended at the limit."""


def _few(
    terms: list[ReTerm], X: np.ndarray, model: ResidualModel
) -> list[tuple[str, CSPart, int, np.ndarray]]:
    """(label, part, the index of its u in φ, the codes of its largest subjects) of each CS
    part whose K largest subjects have summed [Z X] of rank K (:func:`_trivial`)."""
    corr = model.correlation
    pieces: list[tuple[str, CSPart, int, np.ndarray]] = []
    if isinstance(corr, CSPart):
        pieces.append(("", corr, 0, np.ones(model.n, bool)))
    elif isinstance(corr, ByCorrelation):
        for g, (label, part) in enumerate(zip(corr.labels, corr.parts, strict=True)):
            if isinstance(part, CSPart):
                pieces.append((str(label), part, int(corr._offsets[g]), corr.group == g))
    out = []
    for label, part, at, in_group in pieces:
        subject = np.where(in_group, model.subject, -1)
        codes, counts = np.unique(subject[subject >= 0], return_counts=True)
        full = codes[counts == part.max_size]
        rows = np.flatnonzero(np.isin(subject, full))
        if part.max_size >= 2 and len(full) and _trivial(terms, X, rows, subject[rows]):
            out.append((label, part, at, full))
    return out


def _trivial(terms: list[ReTerm], X: np.ndarray, rows: np.ndarray, subject: np.ndarray) -> bool:
    """Whether the K subjects' summed [Z X] have rank K (any y's sums are fitted)."""
    _, local = np.unique(subject, return_inverse=True)
    k = int(local.max()) + 1
    Z, width = _random_columns(terms, rows)
    if k > X.shape[1] + width:
        return False
    A = X[rows] if Z is None else np.column_stack([Z, X[rows]])
    summed = np.zeros((k, A.shape[1]))
    np.add.at(summed, local, A)
    return _rank(summed) >= k if Z is not None else _rank(summed) + width >= k


def limit_u(M: int) -> float:
    """u of ρ = −1/(M − 1) + :data:`ULPS` ulps (ρ = logistic(u)(1 + a) − a, a = 1/(M − 1))."""
    a = 1.0 / (M - 1)
    s = ULPS * float(np.spacing(a)) / (1.0 + a)
    return math.log(s) - math.log1p(-s)


def cs_limit(fit: ResidualFit, terms: list[ReTerm], X: np.ndarray, y: np.ndarray) -> ResidualFit:
    """``fit`` with :attr:`.ResidualFit.cs_limit` set when an ML CS part's limit is above it
    (module docstring); unchanged under REML or without CS with few largest subjects.

    Raises
    ------
    MixedFitError
        The fit ended at that limit (the likelihood rises to it: no interior maximum).
    """
    if fit.reml:
        return fit
    crit: ResidualCriterion | None = None
    for label, part, at, full in _few(terms, X, fit.model):
        M = part.max_size
        phi = np.array(fit.phi, dtype=float)
        phi[at] = limit_u(M)
        t = part.stiffness(phi[at : at + 1])
        if part.stiffness(fit.phi[at : at + 1]) <= AT_LIMIT * t:
            raise MixedFitError(_refusal(label, M, len(full)))
        crit = crit or ResidualCriterion(terms, X, y, fit.model)
        x = np.concatenate([fit.theta, phi])
        try:
            value = crit.reported(x, crit.factor_at(phi), False)
        except np.linalg.LinAlgError:
            continue
        if math.isfinite(value) and value < fit.objective - 1e-8 * max(1.0, abs(fit.objective)):
            found = CSLimit(label, M, tuple(int(c) for c in full), value, t)
            return replace(fit, cs_limit=found)
    return fit


def limit_refusal(
    error: Exception, terms: list[ReTerm], X: np.ndarray, model: ResidualModel, reml: bool
) -> Exception:
    """The refusal of an ML fit whose CS part with few largest subjects ran off to its limit
    (``error``: the factor failed there, :meth:`.criterion.ResidualCriterion.factor_at`, its
    ``phi`` with that part's t = (1 + (M−1)ρ)/(1 − ρ) at most :data:`NEAR_LIMIT`); else, with
    such a part, a MixedFitError saying what failed (rv27 LOW-7: any LinAlgError was refused
    as the limit); ``error`` itself otherwise."""
    if reml:
        return error
    phi = getattr(error, "phi", None)
    few = _few(terms, X, model)
    for label, part, at, full in few:
        if phi is not None and part.stiffness(phi[at : at + part.size]) <= NEAR_LIMIT:
            return MixedFitError(_refusal(label, part.max_size, len(full)))
    if not few:
        return error
    where = "" if phi is None else f" at φ = {np.round(phi, 6).tolist()}"
    return MixedFitError(
        f"the ML fit failed{where}: {error} (numpy.linalg.LinAlgError). Its CompoundSymmetry "
        "correlation is not at its limit ρ → −1/(M − 1) there (where this fit would have no "
        "maximum), so this is another failure: please report it with the data"
    )


NEAR_LIMIT = 1e-8
"""t = (1 + (M−1)ρ)/(1 − ρ) up to which a failed factor is CS's limit (:func:`limit_refusal`;
measured: the overflow of no_interior's ML fit, tests/reference/cov_cs_ml, is at t ~1e-280)."""


def _refusal(label: str, M: int, k: int) -> str:
    where = f" (in the by= group {label!r})" if label else ""
    return (
        f"CompoundSymmetry{where}: the ML fit ran to the correlation's lower limit "
        f"ρ → −1/{M - 1}: the {_count(k)} with {M} rows are few enough for the fixed effects "
        "to fit their means exactly, and the ML likelihood grows without bound as a subject "
        f"mean's variance 1 + {M - 1}ρ goes to 0, with no interior maximum on the way: the model "
        "has no maximum-likelihood fit. Use REML, or a structure without CS's negative-"
        "correlation limit (a random intercept, Unstructured)"
    )


def cs_limit_message(found: CSLimit, objective: float, labels: list[str] | None) -> str:
    """The warning's text for ``found`` beside the fit's −2ℓ ``objective``, naming the
    subjects by ``labels`` (their codes when None)."""
    names = [labels[c] if labels and c < len(labels) else str(c) for c in found.subjects]
    shown = ", ".join(map(repr, names[:6])) + (", ..." if len(names) > 6 else "")
    where = f" (in the by= group {found.group!r})" if found.group else ""
    M = found.size
    return (
        f"CompoundSymmetry{where}: the ML likelihood has no maximum. The {_count(len(names))} "
        f"with {M} rows ({shown}) are few enough for the fixed effects to fit their "
        f"means exactly, so as ρ → −1/{M - 1} (a subject mean's variance 1 + {M - 1}ρ → 0) the "
        "log-likelihood grows without bound: at ρ a few ulps above −1/"
        f"{M - 1} (1 + {M - 1}ρ ≈ {found.stiffness:.1g} (1 − ρ)) it is "
        f"{-found.objective / 2:.6g}, above the reported {-objective / 2:.6g}. The estimates "
        "are a local maximum (the one nlme's gls reports), not the maximum-likelihood fit. Use "
        "REML, or a structure without CS's negative-correlation limit (a random intercept, "
        "Unstructured)"
    )


def _count(k: int) -> str:
    return f"{k} subjects" if k > 1 else "one subject"
