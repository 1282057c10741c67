"""The moment start of a small model in compiled (numba) calls (issue 15).

The same steps as :class:`.start.MomentStart` — the projection on X (an orthonormal basis), each
term's per-level least squares (Z_l'Z_l with its ridge, usable levels), backfitting, σ̂², the
fixed-effect directions the levels lose (:mod:`.start_divisor`), the moments, the eigenvalue floor
and the Cholesky factor — in loops over the rows instead of ~25–40 numpy and LAPACK calls, in two
calls: :func:`moment_design` (X and the terms alone: kept for a reused design) and
:func:`moment_response` (θ of a response). Sums over rows in ``numpy.bincount``'s row order; X's
basis Gram–Schmidt's, each column orthogonalized twice (numpy's: Householder's QR); k×k solves
Gaussian elimination with partial pivoting (LAPACK's ``gesv``), the k×k Cholesky factor written
out; the rank (SVD) and the k×k ``eigh`` LAPACK's through numba. So the start equals the numpy one
to rounding (``tests/test_jit_start.py``). Loops rather than array expressions or slice
assignments: numba compiles those far more slowly (the cold start).

The terms are packed: ``refs`` (terms, n) level codes, ``Z`` (n, Σk) the terms' columns side by
side, ``meta`` (terms, 3) each term's k, number of levels and whether it is correlated. The
result is θ, or an empty array where the numpy path must decide (a non-finite moment: it
raises there).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

Array = np.ndarray

__all__ = ["moment_design", "moment_response"]

_FLOOR, _SCALAR_FLOOR = 1e-3, 1e-2  # as .start's (this kernel covers unstructured layouts only)
_PASSES, _ML_LEVELS = 6, 100  # as .start._PASSES, .start_divisor.ML_LEVELS


@njit(cache=True, error_model="numpy")
def _lu(a: Array, piv: Array) -> None:
    """In-place LU factorization with partial pivoting of a small square ``a`` (as ``getrf``)."""
    k = a.shape[0]
    for j in range(k):
        p = j
        for i in range(j + 1, k):
            if abs(a[i, j]) > abs(a[p, j]):
                p = i
        piv[j] = p
        if p != j:
            for c in range(k):
                a[j, c], a[p, c] = a[p, c], a[j, c]
        d = a[j, j]
        if d != 0.0:
            for i in range(j + 1, k):
                a[i, j] /= d
        for i in range(j + 1, k):
            f = a[i, j]
            for c in range(j + 1, k):
                a[i, c] -= f * a[j, c]


@njit(cache=True, error_model="numpy")
def _lu_solve(lu: Array, piv: Array, b: Array) -> None:
    """Solve in place with the factors of :func:`_lu`."""
    k = lu.shape[0]
    for j in range(k):
        p = piv[j]
        if p != j:
            b[j], b[p] = b[p], b[j]
    for i in range(k):
        s = b[i]
        for c in range(i):
            s -= lu[i, c] * b[c]
        b[i] = s
    for i in range(k - 1, -1, -1):
        s = b[i]
        for c in range(i + 1, k):
            s -= lu[i, c] * b[c]
        b[i] = s / lu[i, i]


@njit(cache=True, error_model="numpy")
def _basis(X: Array) -> Array:
    """An orthonormal basis (n, p) of the columns of X (full column rank): Gram–Schmidt, each
    column orthogonalized twice (for a projection as accurate as numpy's Householder QR)."""
    n, p = X.shape
    Q = np.empty((n, p))
    for c in range(p):
        for i in range(n):
            Q[i, c] = X[i, c]
        for _ in range(2):
            for j in range(c):
                d = 0.0
                for i in range(n):
                    d += Q[i, j] * Q[i, c]
                for i in range(n):
                    Q[i, c] -= d * Q[i, j]
        norm = 0.0
        for i in range(n):
            norm += Q[i, c] * Q[i, c]
        norm = math.sqrt(norm)
        for i in range(n):
            Q[i, c] /= norm
    return Q


@njit(cache=True, error_model="numpy")
def _project_out(Q: Array, r: Array) -> None:
    """r ← r − Q (Q' r)."""
    n, p = Q.shape
    coef = np.zeros(p)
    for i in range(n):
        for c in range(p):
            coef[c] += Q[i, c] * r[i]
    for i in range(n):
        s = 0.0
        for c in range(p):
            s += Q[i, c] * coef[c]
        r[i] -= s


@njit(cache=True, error_model="numpy")
def _refit(refs: Array, Z: Array, lu: Array, piv: Array, r: Array, b: Array) -> None:
    """b ← per-level least squares of ``r`` on the term's columns ``Z`` (n, k)."""
    k = Z.shape[1]
    for lev in range(b.shape[0]):
        for a in range(k):
            b[lev, a] = 0.0
    for i in range(r.shape[0]):
        lev = refs[i]
        for a in range(k):
            b[lev, a] += Z[i, a] * r[i]
    for lev in range(b.shape[0]):
        if k == 1:
            b[lev, 0] = b[lev, 0] / lu[lev, 0, 0]
        else:
            _lu_solve(lu[lev], piv[lev], b[lev])


@njit(cache=True, error_model="numpy")
def _add_fitted(refs: Array, Z: Array, b: Array, r: Array, sign: float) -> None:
    """r ← r + sign · Z b."""
    k = Z.shape[1]
    for i in range(r.shape[0]):
        lev = refs[i]
        s = Z[i, 0] * b[lev, 0]
        for a in range(1, k):
            s += Z[i, a] * b[lev, a]
        r[i] += sign * s


@njit(cache=True, error_model="numpy")
def _between_level_rank(refs: Array, Z: Array, X: Array, nlev: int) -> int:
    """As :func:`.start_divisor.between_level_rank`."""
    n, p = X.shape
    if p <= 1:
        return 1
    scale = np.zeros(p)
    for i in range(n):
        for c in range(p):
            scale[c] += X[i, c] * X[i, c]
    for c in range(p):
        scale[c] = 1.0 / math.sqrt(scale[c])
    k = Z.shape[1]
    within, zz, coef = np.empty((n, p)), np.empty(nlev), np.empty((nlev, p))
    lowest = p
    for a in range(k):
        for lev in range(nlev):
            zz[lev] = 0.0
            for c in range(p):
                coef[lev, c] = 0.0
        for i in range(n):
            z = Z[i, a]
            zz[refs[i]] += z * z
            for c in range(p):
                coef[refs[i], c] += z * X[i, c]
        for lev in range(nlev):
            if zz[lev] == 0.0:
                zz[lev] = 1.0
            for c in range(p):
                coef[lev, c] = coef[lev, c] / zz[lev]
        for i in range(n):
            for c in range(p):
                within[i, c] = (X[i, c] - Z[i, a] * coef[refs[i], c]) * scale[c]
        lowest = min(lowest, np.linalg.matrix_rank(within))
    return max(1, p - lowest)


@njit(cache=True, error_model="numpy")
def _term_setup(
    refs: Array, Z: Array, nlev: int, lu: Array, piv: Array, usable: Array, sampling: Array
) -> None:
    """Z_l'Z_l with its ridge, LU-factored in ``lu`` (nlev, k, k); the usable levels and the
    mean over them of (Z_l'Z_l)⁻¹ in ``sampling`` (k, k), which holds zeros."""
    n, k = Z.shape
    ztz, counts = np.zeros((nlev, k, k)), np.zeros(nlev, dtype=np.int64)
    for i in range(n):
        lev = refs[i]
        counts[lev] += 1
        for a in range(k):
            for c in range(a + 1):
                ztz[lev, a, c] += Z[i, a] * Z[i, c]
    col, m = np.empty(k), 0
    for lev in range(nlev):
        for a in range(k):
            for c in range(a):
                ztz[lev, c, a] = ztz[lev, a, c]
        scale = 0.0
        for a in range(k):
            for c in range(k):
                scale = max(scale, abs(ztz[lev, a, c]))
        bound = 1e-10
        for a in range(k):  # (factored in lu[lev], overwritten below: one signature of _lu)
            bound *= scale
            for c in range(k):
                lu[lev, a, c] = ztz[lev, a, c]
        _lu(lu[lev], piv[lev])
        det = 1.0
        for a in range(k):
            det *= lu[lev, a, a] if piv[lev, a] == a else -lu[lev, a, a]
        usable[lev] = counts[lev] > k and det > bound
        ridge = 1e-10 * max(scale, 1e-300)
        for a in range(k):
            for c in range(k):
                lu[lev, a, c] = ztz[lev, a, c] + (ridge if a == c else 0.0)
        _lu(lu[lev], piv[lev])
        if usable[lev]:
            m += 1
            for c in range(k):
                for a in range(k):
                    col[a] = 1.0 if a == c else 0.0
                if k == 1:
                    col[0] = 1.0 / lu[lev, 0, 0]
                else:
                    _lu_solve(lu[lev], piv[lev], col)
                for a in range(k):
                    sampling[a, c] += col[a]
    for a in range(k):
        for c in range(k):
            sampling[a, c] = sampling[a, c] / m if m else 0.0


@njit(cache=True, error_model="numpy")
def _factor(
    b: Array, usable: Array, sampling: Array, sigma2: float, spent: int, correlated: bool, T: Array
) -> int:
    """T with T T' ≈ G/σ² from the usable levels' b_l (:func:`.start.moment_factor`; cov(b_l)
    divides by their number less ``spent``); 1 if G is not finite."""
    k = b.shape[1]
    m = 0
    mean = np.zeros(k)
    for lev in range(b.shape[0]):
        if usable[lev]:
            m += 1
            for a in range(k):
                mean[a] += b[lev, a]
    for a in range(k):
        mean[a] /= m
    G = np.zeros((k, k))
    for lev in range(b.shape[0]):
        if usable[lev]:
            for a in range(k):
                for c in range(k):
                    G[a, c] += (b[lev, a] - mean[a]) * (b[lev, c] - mean[c])
    for a in range(k):
        for c in range(k):
            G[a, c] = G[a, c] / (m - spent) / sigma2 - sampling[a, c]
            if not math.isfinite(G[a, c]):
                return 1
    if k == 1:
        g = G[0, 0]
        T[0, 0] = math.sqrt(max(g, _SCALAR_FLOOR * max(g, 0.0, 1.0)))
        return 0
    if not correlated:
        for a in range(k):
            for c in range(k):
                if a != c:
                    G[a, c] = 0.0
    S = np.empty((k, k))
    for a in range(k):
        for c in range(k):
            S[a, c] = (G[a, c] + G[c, a]) / 2
    w, V = np.linalg.eigh(S)
    scale = 1.0
    for a in range(k):
        scale = max(scale, w[a])
    for a in range(k):
        for c in range(k):
            S[a, c] = 0.0
            for e in range(k):
                S[a, c] += V[a, e] * max(w[e], _FLOOR * scale) * V[c, e]
    L = np.zeros((k, k))
    for j in range(k):  # Cholesky (S is positive definite: its eigenvalues are floored)
        for i in range(j, k):
            v = S[i, j]
            for c in range(j):
                v -= L[i, c] * L[j, c]
            if i == j:
                if not v > 0.0:
                    return 1
                L[j, j] = math.sqrt(v)
            else:
                L[i, j] = v / L[j, j]
    for a in range(k):
        for c in range(k):
            T[a, c] = L[a, c] if correlated or a == c else 0.0
    return 0


@njit(cache=True, error_model="numpy")
def moment_design(X: Array, refs: Array, Z: Array, meta: Array) -> tuple[Array, ...]:
    """What the start takes from the design alone (a reused design keeps it: :mod:`.start`):
    X's basis Q, each term's LU factors and pivots of Z_l'Z_l with its ridge, usable levels and
    mean sampling covariance, and the fixed-effect directions its levels lose (−1 where a
    column of X has no finite nonzero norm: then computed with σ̂² > 0 alone, as before)."""
    nt = meta.shape[0]
    kk, nlev = meta[:, 0], meta[:, 1]
    kmax, lmax, finite = 1, 1, True
    for t in range(nt):
        kmax, lmax = max(kmax, kk[t]), max(lmax, nlev[t])
    for c in range(X.shape[1]):  # (a zero column's scale is not finite either)
        norm = 0.0
        for i in range(X.shape[0]):
            norm += X[i, c] * X[i, c]
        finite = finite and math.isfinite(norm) and norm > 0.0
    lus = np.zeros((nt, lmax, kmax, kmax))
    pivs = np.zeros((nt, lmax, kmax), dtype=np.int64)
    usables = np.zeros((nt, lmax), dtype=np.bool_)
    samplings = np.zeros((nt, kmax, kmax))
    losts = np.full(nt, -1, dtype=np.int64)
    koff = np.cumsum(kk) - kk
    for t in range(nt):
        k, nl, zt = kk[t], nlev[t], Z[:, koff[t] : koff[t] + kk[t]]
        _term_setup(refs[t], zt, nl, lus[t, :nl, :k, :k], pivs[t, :nl, :k], usables[t, :nl],
                    samplings[t, :k, :k])  # fmt: skip
        if finite:
            losts[t] = _between_level_rank(refs[t], zt, X, nl)
    return _basis(X), lus, pivs, usables, samplings, losts


@njit(cache=True, error_model="numpy")
def moment_response(
    Q: Array, lus: Array, pivs: Array, usables: Array, samplings: Array, losts: Array,
    X: Array, y: Array, refs: Array, Z: Array, meta: Array, reml: bool,
) -> Array:  # fmt: skip
    """θ of the moment start of ``y`` from :func:`moment_design`'s parts, which it only reads
    (for a REML or ML fit: :func:`.start.moment_start`)."""
    n, p = X.shape
    nt = meta.shape[0]
    kk, nlev, correlated = meta[:, 0], meta[:, 1], meta[:, 2]
    koff = np.cumsum(kk) - kk  # each term's first column in Z
    r = y.copy()
    _project_out(Q, r)
    kmax, lmax = lus.shape[2], lus.shape[1]
    alone, current = np.zeros((nt, lmax, kmax)), np.zeros((nt, lmax, kmax))
    for t in range(nt):
        k, nl, zt = kk[t], nlev[t], Z[:, koff[t] : koff[t] + kk[t]]
        _refit(refs[t], zt, lus[t, :nl, :k, :k], pivs[t, :nl, :k], r, alone[t, :nl, :k])
    for lev in range(lmax):
        for a in range(kmax):
            current[0, lev, a] = alone[0, lev, a]
    _add_fitted(refs[0], Z[:, koff[0] : koff[0] + kk[0]], current[0, : nlev[0], : kk[0]], r, -1.0)
    for _ in range(_PASSES if nt > 1 else 0):
        for t in range(nt):
            k, nl, zt = kk[t], nlev[t], Z[:, koff[t] : koff[t] + kk[t]]
            b = current[t, :nl, :k]
            _add_fitted(refs[t], zt, b, r, 1.0)
            _refit(refs[t], zt, lus[t, :nl, :k, :k], pivs[t, :nl, :k], r, b)
            _add_fitted(refs[t], zt, b, r, -1.0)
        _project_out(Q, r)
    df = n - p
    size = 0
    for t in range(nt):
        df -= (nlev[t] - 1) * kk[t]
        size += kk[t] * (kk[t] + 1) // 2 if correlated[t] else kk[t]
    rr = 0.0
    for i in range(n):
        rr += r[i] * r[i]
    sigma2 = rr / df if df > 0 else 0.0
    theta = np.empty(size)
    T = np.empty((kmax, kmax))
    at = 0
    for t in range(nt):
        k, nl = kk[t], nlev[t]
        for a in range(kmax):
            for c in range(kmax):
                T[a, c] = 1.0 if a == c else 0.0
        if sigma2 > 0.0:
            zt = Z[:, koff[t] : koff[t] + k]
            lost = losts[t] if losts[t] >= 0 else _between_level_rank(refs[t], zt, X, nl)
            usable, used = usables[t, :nl], 0
            for lev in range(nl):  # (np.sum(usable))
                used += usable[lev]
            spent = lost if reml or used >= _ML_LEVELS * lost else 0  # (.start_divisor's rule)
            own = alone[t, :nl, :k], usable, samplings[t, :k, :k]
            if used > lost and _factor(*own, sigma2, spent, correlated[t] != 0, T):
                return np.empty(0)
        for c in range(k):  # lme4's order: the lower triangle by columns, or the diagonal
            for a in range(c, k if correlated[t] else c + 1):
                theta[at] = T[a, c]
                at += 1
    return theta
