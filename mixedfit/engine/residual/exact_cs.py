"""A compound-symmetry correlation whose subject means the model fits exactly: no maximum of the
likelihood at ρ → −1/(m − 1) (issue 12, lane csrho).

A subject of m rows has CS block C = (1 − ρ)(I − P) + (1 + (m − 1)ρ) P, P = 1 1'/m: in the
subject's orthonormal basis (its mean row √m ȳ_i and m − 1 contrasts) the rows are uncorrelated
with variances σ²(1 + (m − 1)ρ) and σ²(1 − ρ). The lower limit ρ → −1/(m − 1) of the largest
subjects (m = M, :attr:`.correlation.CSPart.max_size`; smaller ones stay positive definite there)
sends the mean rows' variance to 0 like a VarIdent stratum's δ² → 0 (:mod:`.exact`), the stratum
being the K mean rows of the subjects of M rows: their sums of [Z X y] per subject. So when the
sums of y lie in the span of the sums of [Z X] (for some subset of the random-effects columns,
whose variances may go to 0 with it: :func:`.exact._faces`) and K exceeds that span's rank,
the criterion falls without bound: −2ℓ drops by (K − rank) log 10 per decade of 1 + (M − 1)ρ
(REML; ML: K − the rank of the sums of Z). The likelihood has no maximum. The test is K > rank
under ML too (lane csml, reviewer rv25 HIGH-1): with K ≤ the rank of the sums of [Z X] any y's
sums are fitted (few largest subjects, e.g. 2 of 30 with a fifth visit, or a ``by=`` group's one
largest subject). The ML supremum is then still infinite: the criterion first pays a finite price
for β interpolating those K sums and falls K log 10 per decade after it, passing the interior
maximum at a data-dependent 1 + (M − 1)ρ (lane csml's extra_visit2 some 17 decades beyond ρ's
resolution; with a site factor near 1e-13, within it: reviewer rv26 HIGH-1). nlme reports the
interior maximum and so does the fit (``tests/reference/cov_cs_ml/``); :mod:`.cs_limit` checks
the likelihood at ρ's resolvable limit after the fit (a warning where it is higher there, a
refusal where the fit ran off to the limit). In floating point the
rounding of y stops the fall where 1 + (M − 1)ρ ~ 1e-32 (estimated: the squared relative
rounding of y), far below what ρ's double resolves (its rounding near −1/3 is 5.6e-17): the
fit used to stop at ρ = −1/3 on rounding noise with a log-likelihood no parameter attains
(test_residual_kr's ``_boundary_data``: y = x + errors centred within subject, ℓ 351.29
reported, 336.47 at the same parameters on reload: the saved file was refused). R agrees
(``tests/reference/cov_cs_exact/``: the dense criterion in CS's eigenbasis falls by 64.47 per
decade with K = 30, p = 2; nlme's ``gls`` stops silently at ρ = −1/3 and ``lme`` with "NA/NaN
function evaluation", each at a different log-likelihood).

:func:`exact_cs` finds such a structure before the fit (:func:`check_exact_cs` raises
:class:`~mixedfit.exceptions.MixedFitError` naming it), with the tolerance of
:func:`.exact._fitted`. A variance function beside CS (CSH, CS & VarIdent) is checked at equal
variances (its ratios at 1, where D⁻¹1 ∝ 1): an exact fit there is enough for no maximum; one
reached only at other ratios is not found. :func:`flat_cs`: under REML with every subject's
indicator in the span of X (the subject as a fixed factor) the criterion does not depend on ρ at
all (refused too: ρ would be its start), and under ML every subject's mean is fitted at no cost
by its own column, a fall :func:`exact_cs` does not see (there K = rank): refused too. Arrays only.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import qr

from ...exceptions import MixedFitError
from ..reterm import ReTerm
from .by import ByCorrelation
from .correlation import CSPart
from .exact import _faces, _fitted, _random_columns, _rank
from .structure import ResidualModel
from .variance import IdentPart

__all__ = ["FLAT", "check_exact_cs", "exact_cs", "flat_cs"]

FLAT = 1e-10
"""A subject's indicator is in the span of X when its residual there is at most this (relative)."""


def exact_cs(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, model: ResidualModel
) -> list[tuple[str, int]]:
    """The CS parts whose largest subjects' means are fitted exactly, with more such subjects
    than the rank of their summed [Z X] (a non-trivial exact fit; ML and REML alike): (``""`` or
    the ``by=`` group's label, M) each.

    Parameters
    ----------
    terms : list of ReTerm
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    model : ResidualModel

    Returns
    -------
    list of (str, int)
        Empty without a CS correlation (or with none fitted exactly).
    """
    if model.variance is not None and not isinstance(model.variance, IdentPart):
        return []
    corr = model.correlation
    pieces: list[tuple[str, CSPart, np.ndarray]] = []
    if isinstance(corr, CSPart):
        pieces.append(("", corr, np.ones(model.n, bool)))
    elif isinstance(corr, ByCorrelation):
        for g, (label, part) in enumerate(zip(corr.labels, corr.parts, strict=True)):
            if isinstance(part, CSPart):
                pieces.append((str(label), part, np.asarray(corr.group) == g))
    out = []
    for label, part, in_group in pieces:
        subject = np.where(in_group, model.subject, -1)
        codes, counts = np.unique(subject[subject >= 0], return_counts=True)
        full = codes[counts == part.max_size]
        if part.max_size < 2 or not len(full):
            continue
        rows = np.flatnonzero(np.isin(subject, full))
        if _means_fitted(terms, X, y, rows, subject[rows]):
            out.append((label, part.max_size))
    return out


def _means_fitted(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, rows: np.ndarray, subject: np.ndarray
) -> bool:
    """Whether the per-subject sums of y's ``rows`` lie in the span of the sums of [Z X] of some
    face (:func:`.exact._faces`) with more subjects than those sums' rank (fewer: any y fits)."""
    _, local = np.unique(subject, return_inverse=True)
    k = int(local.max()) + 1

    def summed(A: np.ndarray) -> np.ndarray:
        out = np.zeros((k, A.shape[1]))
        np.add.at(out, local, A)
        return out

    Xs, ys = summed(X[rows]), summed(y[rows, None])[:, 0]
    if terms:
        Z, _ = _random_columns(terms, rows)
        if Z is not None and not _fitted(np.column_stack([summed(Z), Xs]), ys):
            return False  # outside the span of all the columns: of every subset's (the usual)
    width = sum(len(np.unique(t.refs[rows])) * t.k for t in terms)
    cost = len(rows) * width * min(len(rows), width)
    for face in _faces(terms, cost) if terms else [[]]:
        Z, w = _random_columns(face, rows)
        if Z is None:  # too costly: X alone, with the ranks bounded by Z's width (no false flag)
            gained = min(k, w + _rank(Xs))
            if k > gained and _fitted(Xs, ys):
                return True
            continue
        both = np.column_stack([summed(Z), Xs])
        if k > _rank(both) and _fitted(both, ys):  # K ≤ rank: any y fits (trivially)
            return True
    return False


def flat_cs(X: np.ndarray, model: ResidualModel) -> bool:
    """CS without a variance function: whether every subject's indicator lies in the span of X
    (the subject as a fixed factor). Then every error contrast sums to 0 within each subject, its
    covariance σ²(1 − ρ)(I − P) per subject: the REML criterion does not depend on ρ (R:
    ``tests/reference/cov_cs_exact/``, nlme's REML log-likelihood equal at ρ = −0.3, 0, 0.5; its
    estimate the start), and under ML every subject's mean is fitted exactly at no cost elsewhere
    (its own column), so the criterion falls by K log 10 per decade of 1 + (M − 1)ρ, K the
    subjects of M rows, with nothing to pay: no maximum. :func:`exact_cs` does not find this
    under ML (there K equals the rank of the summed columns), hence this test under both.
    """
    if model.variance is not None or not isinstance(model.correlation, CSPart):
        return False
    _, local = np.unique(model.subject, return_inverse=True)
    k = int(local.max()) + 1 if len(local) else 0
    if k == 0 or k > X.shape[1]:
        return False
    Q, R, _ = qr(X, mode="economic", pivoting=True)
    d = np.abs(np.diagonal(R))
    rank = int((d > d[0] * max(X.shape) * np.finfo(float).eps).sum()) if len(d) and d[0] else 0
    QS = np.zeros((k, rank))
    np.add.at(QS, local, Q[:, :rank])  # Q' 1_i per subject
    size = np.bincount(local, minlength=k).astype(float)
    return bool(np.all(size - (QS**2).sum(axis=1) <= FLAT * size))


def check_exact_cs(
    terms: list[ReTerm], X: np.ndarray, y: np.ndarray, model: ResidualModel, reml: bool
) -> None:
    """Raise MixedFitError when :func:`exact_cs` finds a CS correlation whose largest subjects'
    means are fitted exactly (none: nothing; called before the fit, after
    :func:`.exact.check_exact`).

    Raises
    ------
    MixedFitError
        The likelihood has no maximum (see the module docstring).
    """
    flat = flat_cs(X, model)
    if flat and reml:
        raise MixedFitError(
            "CompoundSymmetry: every subject's mean is fitted by fixed-effect columns of its own "
            "(such as the subject as a factor), so the REML error contrasts sum to 0 within each "
            "subject and their covariance σ²(1 − ρ)(I − P) does not depend on the correlation ρ "
            "beyond σ²: ρ would be arbitrary (nlme's gls returns its start). Drop the subject "
            "columns from the fixed effects, or fit without the structure (independent errors)"
        )
    if flat:
        m = model.correlation.max_size  # type: ignore[union-attr]
        raise MixedFitError(
            "CompoundSymmetry: every subject's mean is fitted exactly by fixed-effect columns of "
            "its own (such as the subject as a factor), so as the correlation ρ → −1/"
            f"{m - 1} (its lower limit, where a subject's mean has variance 0) the ML likelihood "
            "grows without bound: the model has no maximum-likelihood fit. Drop the subject "
            "columns from the fixed effects, or fit without the structure (independent errors)"
        )
    found = exact_cs(terms, X, y, model)
    if not found:
        return
    m = found[0][1]
    groups = [g for g, _ in found if g]
    where = f" (in the by= groups {', '.join(map(repr, groups))})" if groups else ""
    fitted = (
        "fixed effects (with random effects whose variances may go to 0 with it)"
        if terms
        else "fixed effects"
    )
    kind = "REML" if reml else "ML"
    raise MixedFitError(
        f"CompoundSymmetry{where}: the subject means of y (of the subjects with {m} rows) are "
        f"fitted exactly by the model's {fitted}: their residuals are 0 up to rounding, and they "
        f"outnumber the parameters that fit them. As the correlation ρ → −1/{m - 1} (its lower "
        f"limit, where a subject's mean has variance 0) the {kind} likelihood grows without "
        "bound, so the model has no maximum-likelihood fit (nlme's gls stops at that limit on "
        "rounding noise, lme warns). Check how y was made (errors centred within subject?), or "
        "fit the within-subject differences without the subject means, or use another structure"
    )
