"""Warnings after a fit with a residual structure: convergence, boundaries, a singular random-
effects term (:mod:`.singular`), and a term the residual structure cannot be told apart from.

**A term and the residual structure collapsed into one.** A random-effects term whose groups are
the residual structure's subjects adds B_i = Z_i T T' Z_i' (relative to σ²) to each subject's
residual block Λ_i. When B_i = c Λ_i for every subject with one c > 0 (``ar1(0 + f | id,
hom=True)`` beside ``AR1(time, id)`` with ρ̂ = φ̂ and the term's columns the visits; two
compound-symmetry structures with equal ρ; ``diag(0 + f | id)`` and a VarIdent with the same
ratios), V_i = σ²(1 + c) Λ_i and moving variance between the two leaves V unchanged: the split
t = c / (1 + c) is not identified (a ridge of the likelihood; the reported split is where the
optimizer stopped). Near such a point the split is weakly identified. The check measures it by
the Fisher information of t with the other parameters held,

    I_t = ½ Σ_i tr((V_i⁻¹ E_i)²),   E_i = ∂V_i/∂t = σ²(1 + c)(B_i / c − Λ_i),

c the least-squares fit of the B_i to the Λ_i: moving t over its whole range [0, 1] changes
−2ℓ by at most about I_t (to second order; less when the others are re-optimized). When I_t is
at most :data:`IDENT_CHI2` (χ²₁'s 95 % point) every split lies inside the likelihood-ratio
region of the data, so the data cannot tell the term from the residual structure: the fit warns
(:class:`~mixedfit.exceptions.MixedFitWarning`), naming both. An exact collapse has I_t = 0; at
ρ̂ − φ̂ = δ, I_t grows like δ² · (rows).

Pairs that collapse at every parameter value (``(1 | id)`` + ``CompoundSymmetry(id)``: both give
a I + b 1 1'; ``cs(hom=True)`` + ``CompoundSymmetry``; a homogeneous ``toep`` + ``Toeplitz`` or
``AR1`` over the same visits; ``(1 | id)`` + ``Toeplitz`` or ``Unstructured``) are found by
:func:`generic_deficiency` — the rank of the information of the per-subject terms' parameters,
the structure's and σ² at random points — and warned about (not refused: nlme fits them, their
likelihood, β̂ and V are right, only the split and the parameter count are arbitrary).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..covariance.identify import sparse_level_hint
from ..engine.residual.cs_limit import cs_limit_message
from ..engine.residual.orthogonal_nested import crossed_inexact
from ..engine.reterm import ReTerm, ThetaLayout
from ..exceptions import (
    BoundaryWarning,
    ConvergenceWarning,
    MixedFitWarning,
    SingularFitWarning,
    UnboundedLikelihoodWarning,
)
from .fit_warnings import singular_text

__all__ = [
    "GENERIC_TOL",
    "IDENT_CHI2",
    "RIDGE_NOTE",
    "collapsed_terms",
    "generic_deficiency",
    "warn_fit",
    "warn_unbounded",
]

IDENT_CHI2 = 3.841458820694124
"""χ²₁'s 95 % point: the split's information at most this → not identified by the data."""

GENERIC_TOL = 1e-8
"""An eigenvalue of the (scaled) information at a random point below this times the largest is
0: central differences (step 1e-5) are accurate to ~1e-10 relative, the eigenvalues of an
identified model at O(1) parameters are not that small (the rank is the same almost everywhere,
so one random point decides)."""

MAX_WORK = 5_000_000
"""The generic check's largest work (entries of the blocks of the distinct subject patterns ×
evaluations); above, it is skipped (no warning)."""


def warn_unbounded(fit: Any, stacklevel: int) -> None:
    """The :class:`~mixedfit.exceptions.UnboundedLikelihoodWarning` of an ML CS fit whose
    likelihood has no maximum, a local one reported (:mod:`..engine.residual.cs_limit`), if
    ``fit`` (a ResidualModelFit, made or loaded) carries one."""
    engine = fit._engine
    if engine.cs_limit is not None:
        labels = [str(s) for s in fit._bound.subject_labels]
        text = cs_limit_message(engine.cs_limit, engine.objective, labels)
        warnings.warn(text, UnboundedLikelihoodWarning, stacklevel=stacklevel + 1)


def warn_fit(fit: Any, terms: list[ReTerm], stacklevel: int, loaded: bool = False) -> None:
    """The warnings of a residual-structure fit (``fit``: a ResidualModelFit), in order; with
    ``loaded``, those of a fit rebuilt by :func:`mixedfit.load_fit` (the same warnings as the fit
    gave, its convergence verdict read from the saved record: :func:`_not_converged`)."""
    engine, model = fit._engine, fit._bound.model
    stacklevel += 1
    names = [t.name for t in fit._design.spec.terms]
    own = [i for i, t in enumerate(terms) if _per_subject(t, model.subject)]
    lost = generic_deficiency([terms[i] for i in own], model)
    ridge = RIDGE_NOTE if lost else ""
    if (text := _not_converged(engine, loaded)) is not None:
        warnings.warn(text + _level_hint(fit) + ridge, ConvergenceWarning, stacklevel=stacklevel)
    if engine.boundary is not None:
        warnings.warn(engine.boundary, BoundaryWarning, stacklevel=stacklevel)
    warn_unbounded(fit, stacklevel)
    if (note := crossed_inexact(terms, model, engine.phi)) is not None:
        warnings.warn(note, ConvergenceWarning, stacklevel=stacklevel)
    if fit.singular:
        warnings.warn(singular_text(fit), SingularFitWarning, stacklevel=stacklevel)
    if lost:
        warnings.warn(
            f"the random-effects term{'s' if len(own) > 1 else ''} of "
            f"{', '.join(repr(names[i]) for i in own)} and the residual structure "
            f"{fit.residual.name} are never separately identified on these subjects: their "
            f"covariance parameters (and σ²) give each subject's covariance through {lost} fewer "
            f"combinations than their number ({_ridge_example(fit, [terms[i] for i in own])}), "
            "so the likelihood has a ridge and the split between them, the "
            "parameter count (AIC, LRT df) and their standard errors are arbitrary; β, its "
            "standard errors and the fitted covariance are not. Drop the term or use a simpler "
            "residual structure",
            MixedFitWarning,
            stacklevel=stacklevel,
        )
        return
    for i, info in collapsed_terms(engine, model, terms, own):
        warnings.warn(
            f"the random-effects term of {names[i]!r} and the residual structure "
            f"{fit.residual.name} are not separately identified here: the term's covariance "
            "within each subject is (nearly) proportional to the residual one (e.g. ar1 with "
            "ρ̂ = φ̂ beside AR1), so only their summed variance is estimated and its split "
            f"between them is arbitrary (the split's information {info:.2g} ≤ {IDENT_CHI2:.2f}). "
            "Drop the term or the residual correlation (the fit is the simpler model's)",
            MixedFitWarning,
            stacklevel=stacklevel,
        )


def _not_converged(engine: Any, loaded: bool) -> str | None:
    """The ConvergenceWarning's text (without hints) of a fit, or None. A fit whose derivative
    check failed says the check's message (its record, unconverged, says the same), else an
    unconverged record says "the optimizer did not converge: …" (max_evals spent). A loaded fit
    says what the fit said, from its saved record: the check's message where the check
    recomputed at load (:mod:`mixedfit.io.residual_file`) finds the record's, else the record's
    message after "did not converge" (a budget's cut: no check ran in the fit, the reload's
    own verdict is not the fit's). A saved record claiming convergence whose point fails the
    recomputed check was warned about by the load itself (the file does not hold what it says)."""
    check, record = engine.check, engine.record
    failed = check is not None and check.message is not None
    if loaded and record.converged:
        return None
    if failed and (not loaded or check.message == record.message):
        return str(check.message)
    if not record.converged:
        return f"the optimizer did not converge: {record.message}"
    return None


RIDGE_NOTE = (
    "; the split between the random-effects term and the residual structure is not "
    "identified (see the warning that follows): the optimizer stops somewhere on that ridge "
    "of the likelihood, so this is expected there"
)
"""Appended to a ConvergenceWarning when :func:`generic_deficiency` finds the ridge."""


def _ridge_example(fit: Any, terms: list[ReTerm]) -> str:
    """Why the per-subject ``terms`` and the residual structure collapse, for the pair at hand
    where a term has a random intercept beside CompoundSymmetry, Toeplitz or Unstructured
    (review rv15: the compound-symmetry example read oddly beside a Toeplitz); else the
    compound-symmetry example."""
    structure = fit._structure
    corr = getattr(structure, "correlation", structure)
    kind = type(corr).__name__
    intercept = any(t.structure is None and np.all(t.Z == 1.0, axis=0).any() for t in terms)
    if intercept and kind == "Toeplitz" and not getattr(corr, "heterogeneous", False):
        return (
            "a random intercept adds the same constant to the covariance at every lag, and "
            "Toeplitz already has a free covariance per lag (at lag 0 the variance), so either "
            "can hold that constant"
        )
    if intercept and kind == "Unstructured":
        return (
            "Unstructured has a free variance per visit and covariance per pair of visits, so "
            "it can hold the constant a random intercept adds to each of them"
        )
    if intercept and kind == "CompoundSymmetry":
        return (
            "a random intercept and CompoundSymmetry both add the same constant b 1 1' to a "
            "subject's covariance"
        )
    return "e.g. (1 | id) + CompoundSymmetry(id): both are a I + b 1 1'"


def _level_hint(fit: Any) -> str:
    """:func:`.identify.sparse_level_hint` for an Unstructured residual, else ""."""
    structure, bound = fit._structure, fit._bound
    corr = getattr(structure, "correlation", structure)
    if type(corr).__name__ != "Unstructured" or bound.time_level is None:
        return ""
    if bound.subject is None:
        return ""
    hint = sparse_level_hint(
        "Unstructured", corr.time, bound.subject, bound.time_level, bound.time_labels
    )
    return hint or ""


def collapsed_terms(
    engine: Any, model: Any, terms: list[ReTerm], own: list[int] | None = None
) -> list[tuple[int, float]]:
    """(term index, I_t) of the terms whose split from the residual structure has information
    I_t ≤ :data:`IDENT_CHI2` (module docstring); only terms whose groups are the residual
    subjects, and not at the σ → 0 limit or with a vanished term. ``terms``: the model's terms
    with their own Z (the engine's layout holds whitened ones); ``own``: the indices of those
    terms if known."""
    if not engine.theta.size or engine.at_limit or model.correlation is None:
        return []
    layout = engine.factor.layout
    S = [T @ T.T for T in layout.templates(engine.theta)]
    if own is None:
        own = [i for i, t in enumerate(terms) if _per_subject(t, model.subject)]
    out = []
    for i in own:
        info = _information(terms, own, S, i, model, engine.phi)
        if info is not None and info <= IDENT_CHI2:
            out.append((i, info))
    return out


def _per_subject(term: ReTerm, subject: np.ndarray) -> bool:
    """True if each level of the term holds the rows of exactly one subject (and vice versa:
    the caller has checked that subjects are nested in the term's levels)."""
    pairs = np.unique(term.refs.astype(np.int64) * (int(subject.max()) + 1) + subject)
    return len(np.unique(term.refs)) == len(pairs)


def _patterns(terms: list[ReTerm], model: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per batch of subjects of one size: the rows (u, m) of one subject per distinct pattern
    (the structure's row keys and the terms' Z rows: equal patterns have equal blocks) and how
    many subjects have it (u,). Every subject when the structure has no row keys."""
    keys = model.row_keys()
    out = []
    for rows in model.batches:
        if keys is None:
            out.append((rows, np.ones(len(rows))))
            continue
        parts = [keys[rows].reshape(len(rows), -1)]
        parts += [t.Z[rows].reshape(len(rows), -1) for t in terms]
        F = np.ascontiguousarray(np.hstack(parts), dtype=float)
        rowwise = F.view(np.dtype((np.void, F.itemsize * F.shape[1]))).ravel()  # bytes per row
        _, first, counts = np.unique(rowwise, return_index=True, return_counts=True)
        out.append((rows[first], counts.astype(float)))
    return out


def _contribution(term: ReTerm, S: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Z_i S Z_i' per subject (nsub, m, m) for subjects with rows ``rows`` (nsub, m)."""
    Zr = term.Z[rows]
    return np.einsum("smk,kl,snl->smn", Zr, S, Zr)


def _information(
    terms: list[ReTerm],
    own: list[int],
    S: list[np.ndarray],
    i: int,
    model: Any,
    phi: np.ndarray,
) -> float | None:
    """I_t of term ``i`` (module docstring; σ² = 1: I_t is scale-free), or None where the term
    has vanished (c ≤ 0) or a block is singular."""
    batches = []
    for rows, w in _patterns([terms[j] for j in own], model):
        lam = model.blocks(phi, rows)
        B = _contribution(terms[i], S[i], rows)
        V = lam + sum((_contribution(terms[j], S[j], rows) for j in own), np.zeros_like(lam))
        batches.append((lam, B, V, w))
    num = sum(float(np.einsum("s,smn,smn->", w, B, lam)) for lam, B, _, w in batches)
    den = sum(float(np.einsum("s,smn,smn->", w, lam, lam)) for lam, _, _, w in batches)
    c = num / den if den > 0 else 0.0
    if c <= 1e-8:
        return None
    info = 0.0
    for lam, B, V, w in batches:
        E = (1.0 + c) * (B / c - lam)
        try:
            L = np.linalg.cholesky(V)
        except np.linalg.LinAlgError:
            return None
        W = np.linalg.solve(L, E)  # L⁻¹ E, then L⁻¹ E L⁻ᵀ: tr((V⁻¹E)²) = ‖L⁻¹ E L⁻ᵀ‖²_F
        W = np.linalg.solve(L, np.swapaxes(W, 1, 2))
        info += 0.5 * float(np.einsum("s,smn,smn->", w, W, W))
    return info


def generic_deficiency(terms: list[ReTerm], model: Any) -> int:
    """How many of the parameters of ``terms`` (whose groups are the residual subjects), the
    residual structure's and σ² the subjects' covariances V_i never identify: the rank
    deficiency of their Fisher information at random points (Rothenberg 1971: local
    identification ⟺ a nonsingular information matrix). Its rank is the same almost
    everywhere, lower only on special sets (ρ = φ, correlations 0 where two structures both give
    I); two random points away from 0 are taken and the smaller deficiency kept. 0 without
    such terms, or when the work exceeds :data:`MAX_WORK`."""
    if not terms or (model.size == 0 and model.correlation is None):
        return 0
    layout = ThetaLayout(tuple(terms))
    patterns = _patterns(terms, model)
    cells = sum(rows.shape[0] * rows.shape[1] ** 2 for rows, _ in patterns)
    if cells * (2 * (layout.size + model.size) + 1) > MAX_WORK:
        return 0
    return min(
        _deficiency(terms, layout, model, patterns, _point(layout, model, seed)) for seed in (1, 2)
    )


def _point(layout: ThetaLayout, model: Any, seed: int) -> np.ndarray:
    """A random interior (θ, φ) away from 0 and from the boxes' ends."""
    rng = np.random.default_rng(seed)
    lo, hi = layout.lower(), layout.upper()
    with np.errstate(invalid="ignore"):
        inside = lo + (hi - lo) * rng.uniform(0.6, 0.9, lo.size)
    signed = rng.choice([-1.0, 1.0], lo.size) * rng.uniform(0.2, 0.6, lo.size)
    theta = np.where(
        np.isfinite(lo) & np.isfinite(hi),
        inside,
        np.where(np.isfinite(lo), rng.uniform(0.5, 1.5, lo.size), signed),
    )
    step = rng.choice([-1.0, 1.0], model.size) * rng.uniform(0.3, 0.9, model.size)
    phi = np.clip(model.start() + step, model.lower() + 1e-3, model.upper() - 1e-3)
    return np.concatenate([theta, phi])


def _deficiency(
    terms: list[ReTerm],
    layout: ThetaLayout,
    model: Any,
    patterns: list[tuple[np.ndarray, np.ndarray]],
    x: np.ndarray,
) -> int:
    """The rank deficiency of the information of (θ, φ, log σ²) at ``x`` (σ² = 1), from
    central differences of the blocks V_i (module :data:`GENERIC_TOL`)."""
    n_theta = layout.size

    def blocks(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        S = [T @ T.T for T in layout.templates(x[:n_theta])]
        V = model.blocks(x[n_theta:], rows)
        return V + sum((_contribution(t, s, rows) for t, s in zip(terms, S, strict=True)), 0.0)

    gram = np.zeros((x.size + 1, x.size + 1))
    for rows, w in patterns:
        V = blocks(x, rows)
        D = [V]  # ∂V/∂ log σ²
        for j in range(x.size):
            h = 1e-5 * max(1.0, abs(x[j]))
            up, down = x.copy(), x.copy()
            up[j] += h
            down[j] -= h
            D.append((blocks(up, rows) - blocks(down, rows)) / (2 * h))
        try:
            L = np.linalg.cholesky(V)
        except np.linalg.LinAlgError:
            return 0
        W = [np.linalg.solve(L, np.swapaxes(np.linalg.solve(L, d), 1, 2)) for d in D]
        flat = np.stack([d.reshape(len(rows), -1) for d in W], axis=2)  # (u, m², x + 1)
        gram += np.einsum("s,sek,sel->kl", w, flat, flat)
    scale = np.sqrt(np.diag(gram))
    if not np.all(scale > 0):
        return int(np.sum(scale <= 0))
    eig = np.linalg.eigvalsh(gram / np.outer(scale, scale))
    return int(np.sum(eig < GENERIC_TOL * eig[-1]))
