"""The map θ ↔ θ' of :class:`.centring.Centring` (issue 15: a centred fit maps θ̂' and its start).

:func:`map_theta` is :meth:`.centring.Centring.to_original` / ``to_centred`` from the per-term
pieces the centring computes once (:func:`term_plans`). For a term's T it takes the θ entries as
they are, and for the usual 2×2 term (intercept and slope, correlated) it builds T from the three
entries directly (``ThetaLayout.templates`` would zero a 2×2 and assign them: the same values).
The covariance ``A T Tᵀ Aᵀ`` is numpy's product in the same order, then symmetrized and
Cholesky-factored. For a 2×2 these steps run in Python floats: the same operations, so the same
roundings, as numpy's elementwise ones.
"""

from __future__ import annotations

import math

import numpy as np

from .reterm import _PSD_RTOL, ThetaLayout, psd_cholesky

__all__ = ["TermPlan", "map_theta", "term_plans"]

# (offset of the term's θ entries, their count, the scales' inverses d (and as floats), M̃,
# M̃⁻¹, per θ entry its index in T's row-major entries, True for a 2×2 term whose θ is
# (T00, T10, T11)); None for a term left alone
TermPlan = tuple[int, int, np.ndarray, tuple[float, ...], np.ndarray, np.ndarray, list[int], bool]


def term_plans(
    layout: ThetaLayout, Ms: tuple[np.ndarray | None, ...]
) -> tuple[TermPlan | None, ...]:
    """Per term of ``layout`` (None where its M is None) what :func:`map_theta` uses: M = D⁻¹ M̃,
    with D the column scales (powers of two, exact) and M̃ a unit triangular centring."""
    plans: list[TermPlan | None] = []
    for term, off, M in zip(layout.terms, layout.offsets, Ms, strict=True):
        if M is None:
            plans.append(None)
            continue
        d = 1.0 / np.diag(M)
        Mt = d[:, None] * M
        rows, cols = term.theta_index
        k = term.k
        index = [k * r + c for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]
        lower_2 = k == 2 and index == [0, 2, 3]
        # M̃⁻¹: k×k unit triangular, exact enough
        plans.append((off, len(index), d, tuple(d.tolist()), Mt, np.linalg.inv(Mt), index, lower_2))
    return tuple(plans)


def map_theta(
    layout: ThetaLayout,
    plans: tuple[TermPlan | None, ...],
    theta: np.ndarray,
    inverse: bool,
) -> np.ndarray:
    """θ' → θ (``inverse`` False: T = D⁻¹ chol(M̃ T' T'ᵀ M̃ᵀ)) or θ → θ' (True:
    T' T'ᵀ = M̃⁻¹ (D T)(D T)ᵀ M̃⁻ᵀ), term by term (see the module docstring)."""
    given = np.asarray(theta, dtype=float)
    out = np.array(given, dtype=float)
    Ts = None
    values = None
    for i, plan in enumerate(plans):
        if plan is None:
            continue
        off, m, d, d_floats, Mt, Mt_inv, index, lower_2 = plan
        if lower_2:
            if values is None:
                values = given.tolist()
            t00, t10, t11 = values[off : off + 3]
            T = np.array([[t00, 0.0], [t10, t11]])
        else:
            if Ts is None:
                Ts = layout.templates(given)
            T = Ts[i]
        if inverse:
            A, T = Mt_inv, d[:, None] * T
        else:
            A = Mt
        S = A @ T @ T.T @ A.T
        if len(S) == 2:  # the steps below in floats (the same roundings)
            entries = _mapped_2(S, None if inverse else d_floats)
            if entries is not None:
                out[off : off + m] = [entries[j] for j in index]
                continue
        S = (S + S.T) / 2
        T_new = _psd_cholesky_2(S) if len(S) == 2 else psd_cholesky(S)
        if T_new is None:  # pragma: no cover - S is PSD by construction
            raise np.linalg.LinAlgError("covariance is not positive semi-definite")
        if not inverse:
            T_new = T_new / d[:, None]
        out[off : off + m] = T_new.ravel()[index]
    return out


def _mapped_2(S: np.ndarray, d: tuple[float, ...] | None) -> list[float] | None:
    """The entries (row by row) of :func:`map_theta`'s T for a 2×2 ``S`` before its
    symmetrization: ``(S + Sᵀ) / 2``, :func:`_psd_cholesky_2` and the rows divided by ``d``
    (unless None) in Python floats, bit for bit numpy's elementwise steps; None where numpy's
    steps are to decide: S or a result not finite, a zero in ``d``, or numpy set to act on
    underflow (``np.seterr``: Python floats underflow silently)."""
    if np.geterr()["under"] != "ignore":
        return None
    s00, s01, s10, s11 = S.ravel().tolist()
    a00, a10, a11 = (s00 + s00) / 2, (s10 + s01) / 2, (s11 + s11) / 2
    if not (math.isfinite(a00) and math.isfinite(a10) and math.isfinite(a11)):
        return None
    found = _cholesky_2(a00, a10, a11)
    if found is None:  # pragma: no cover - S is PSD by construction
        raise np.linalg.LinAlgError("covariance is not positive semi-definite")
    l00, l10, l11 = found
    if d is None:
        return [l00, 0.0, l10, l11]
    d0, d1 = d
    if d0 == 0.0 or d1 == 0.0:
        return None
    out = [l00 / d0, 0.0 / d0, l10 / d1, l11 / d1]
    return out if all(map(math.isfinite, out)) else None


def _psd_cholesky_2(S: np.ndarray) -> np.ndarray | None:
    """:func:`.reterm.psd_cholesky` of a 2×2 ``S`` in Python floats, bit for bit (its dot
    products have at most one term there: the same roundings); S not finite: that function."""
    s00, s10, s11 = float(S[0, 0]), float(S[1, 0]), float(S[1, 1])
    if not (math.isfinite(s00) and math.isfinite(s10) and math.isfinite(s11)):
        return psd_cholesky(S)
    found = _cholesky_2(s00, s10, s11)
    return None if found is None else np.array([[found[0], 0.0], [found[1], found[2]]])


def _cholesky_2(s00: float, s10: float, s11: float) -> tuple[float, float, float] | None:
    """:func:`_psd_cholesky_2` of finite entries: (l00, l10, l11), or None (not PSD)."""
    tol = _PSD_RTOL * max(abs(s00), abs(s11), 0.0, 1e-300)
    l00 = l10 = l11 = 0.0
    if s00 < -tol:
        return None
    if s00 <= tol:  # a vanishing first pivot: the column below must vanish too
        if abs(s10) > math.sqrt(tol) * math.sqrt(abs(s11) + tol):
            return None
    else:
        l00 = math.sqrt(s00)
        l10 = s10 / l00
    d = s11 - l10 * l10
    if d < -tol:
        return None
    if d > tol:
        l11 = math.sqrt(d)
    return l00, l10, l11
