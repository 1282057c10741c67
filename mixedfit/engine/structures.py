"""Structured covariance of a random-effects term: the map ψ → T of lme4 2.x's ``cs``, ``ar1``,
``diag(hom = TRUE)`` and glmmTMB's ``toep``.

An ordinary term's θ holds the entries of its relative covariance factor T directly (lme4's
linear fill, :mod:`.reterm`). A structured term's parameters ψ (what the optimizer sees, with box
bounds) define T nonlinearly. Relative covariance ``T T' = D P D`` with D = diag(s) the relative
standard deviations (sd / σ) and P a correlation matrix:

* ``diag(hom=True)``: ψ = (s), P = I, T = s I.
* ``cs``: ψ = (s_1..s_k, ρ) (one s if ``hom``), P_ij = ρ (i ≠ j), ρ ∈ [−1/(k−1), 1]; T = D L with
  L the closed-form Cholesky factor of P.
* ``ar1``: ψ = (s, ρ) (k sds unless ``hom``), P_ij = ρ^|i−j| over the term's column index,
  ρ ∈ [−1, 1]; L_i1 = ρ^(i−1), L_ij = ρ^(i−j) √(1−ρ²) (j > 1).
* ``toep``: ψ = (s_1..s_k, π_1..π_(k−1)) (one s if ``hom``), P_ij = ρ_|i−j| with the lag
  correlations ρ_m from the partial autocorrelations π_m ∈ [−1, 1] by the Durbin–Levinson
  recursion: P is positive (semi)definite everywhere in the box (det P = Π (1 − π_m²)^(k−m)).

This is lme4 2.x's ``par`` (sds ≥ 0 and correlations in their box, so a zero variance or a
correlation of ±1 is a boundary fit as in lme4); toep's PACF box is ours (glmmTMB fills ρ_m
directly, without a positive-definiteness guarantee). Arrays only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["STRUCTURES", "CovStructure", "make_structure"]

STRUCTURES = ("diag", "cs", "ar1", "toep")
_START_RHO = 0.95  # |ρ| or |π| of a start is kept below this
_SHOWN_LAGS = 4  # lag correlations of a toep term in its description


@dataclass(frozen=True)
class CovStructure:
    """A structured relative covariance of a k-column random-effects term.

    Attributes
    ----------
    kind : {"diag", "cs", "ar1", "toep"}
    k : int
        Columns of the term (at least 2 for cs, ar1 and toep).
    hom : bool
        One standard deviation for all columns (else one per column).
    """

    kind: str
    k: int
    hom: bool

    # ------------------------------------------------------------ layout of ψ
    @property
    def n_sd(self) -> int:
        """Number of standard-deviation parameters (first in ψ)."""
        return 1 if self.hom else self.k

    @property
    def n_cor(self) -> int:
        """Number of correlation parameters (after the sds)."""
        return {"diag": 0, "cs": 1, "ar1": 1, "toep": self.k - 1}[self.kind]

    @property
    def npar(self) -> int:
        """Length of ψ."""
        return self.n_sd + self.n_cor

    def sd_mask(self) -> np.ndarray:
        """True where ψ holds a standard deviation."""
        return np.arange(self.npar) < self.n_sd

    def lower(self) -> np.ndarray:
        """Lower bounds of ψ."""
        low = -1.0 / (self.k - 1) if self.kind == "cs" else -1.0
        return np.concatenate([np.zeros(self.n_sd), np.full(self.n_cor, low)])

    def upper(self) -> np.ndarray:
        """Upper bounds of ψ."""
        return np.concatenate([np.full(self.n_sd, np.inf), np.ones(self.n_cor)])

    def labels(self, columns: Sequence[str]) -> list[str]:
        """Names of the ψ entries, e.g. ``["sd", "rho"]`` or ``["sd_x", "sd_z", "pacf_1"]``."""
        sds = ["sd"] if self.hom else [f"sd_{c}" for c in columns]
        if self.kind == "toep":
            return sds + [f"pacf_{m}" for m in range(1, self.k)]
        return sds + (["rho"] if self.n_cor else [])

    # ------------------------------------------------------------ the map ψ → T
    def fill(self, psi: np.ndarray, T: np.ndarray) -> None:
        """Write T (k×k lower triangular) of ``psi`` into ``T`` (upper triangle left as it is)."""
        k = self.k
        s = psi[: self.n_sd]
        if self.kind == "diag":
            T[np.arange(k), np.arange(k)] = s[0] if self.hom else s
            return
        L = self.correlation_factor(psi[self.n_sd :])
        rows, cols = np.tril_indices(k)
        scale = s[0] if self.hom else s[rows]
        T[rows, cols] = scale * L[rows, cols]

    def template(self, psi: np.ndarray) -> np.ndarray:
        """T of ``psi``, a new k×k array."""
        T = np.zeros((self.k, self.k))
        self.fill(np.asarray(psi, dtype=float), T)
        return T

    def correlation_factor(self, cor: np.ndarray) -> np.ndarray:
        """Lower-triangular L with L L' = P (the correlation matrix of the parameters ``cor``);
        parameters outside their box are clipped into it."""
        k = self.k
        if self.kind == "diag":
            return np.eye(k)
        if self.kind == "ar1":
            rho = float(np.clip(cor[0], -1.0, 1.0))
            lag = np.subtract.outer(np.arange(k), np.arange(k))
            L = np.where(lag >= 0, rho ** np.maximum(lag, 0), 0.0)
            L[1:, 1:] *= np.sqrt(max(1.0 - rho * rho, 0.0))
            return L
        if self.kind == "cs":
            return _cs_factor(float(np.clip(cor[0], -1.0 / (k - 1), 1.0)), k)
        return _toeplitz_factor(pacf_to_acf(np.clip(cor, -1.0, 1.0)))

    def correlation(self, cor: np.ndarray) -> np.ndarray:
        """The correlation matrix P (k×k) of the parameters ``cor``."""
        L = self.correlation_factor(np.asarray(cor, dtype=float))
        return L @ L.T

    # ------------------------------------------------------------ sds and correlations
    def sdcor(self, S: np.ndarray) -> np.ndarray:
        """The parameters on the scale of a covariance S (k×k, σ² T T'): sds (one if ``hom``)
        then ρ (cs, ar1) or the partial autocorrelations (toep), in ψ order; a correlation
        of a zero sd is NaN."""
        sd = np.sqrt(np.maximum(np.diag(S), 0.0))
        sds = sd[:1] if self.hom else sd
        if self.n_cor == 0:
            return sds.copy()
        if not np.all(sd > 0):
            return np.concatenate([sds, np.full(self.n_cor, np.nan)])
        C = S / np.outer(sd, sd)
        if self.kind == "toep":
            return np.concatenate([sds, acf_to_pacf(C[1:, 0])])
        return np.concatenate([sds, [C[1, 0]]])

    def from_sdcor(self, values: np.ndarray, sigma: float) -> np.ndarray | None:
        """ψ of the sds and correlations ``values`` (the order of :meth:`sdcor`), None if a
        correlation is outside its box."""
        values = np.asarray(values, dtype=float)
        cor = values[self.n_sd :]
        if np.any(cor < self.lower()[self.n_sd :]) or np.any(cor > 1.0):
            return None
        return np.concatenate([values[: self.n_sd] / sigma, cor])

    # ------------------------------------------------------------ starts
    def from_covariance(self, S: np.ndarray) -> np.ndarray:
        """ψ approximating a relative covariance S (k×k), kept inside the box: a start."""
        sd = np.sqrt(np.maximum(np.diag(S), 0.0))
        sd = np.where(sd > 0, sd, 1.0)
        sds = np.array([np.sqrt(np.mean(sd**2))]) if self.hom else sd
        C = S / np.outer(sd, sd)
        lags = [float(np.mean(np.diagonal(C, m))) for m in range(1, self.k)]
        if self.kind == "diag":
            cor = np.zeros(0)
        elif self.kind == "cs":
            off = C[~np.eye(self.k, dtype=bool)]
            cor = np.array([np.clip(np.mean(off), -0.5 / (self.k - 1), _START_RHO)])
        elif self.kind == "ar1":
            cor = np.array([np.clip(lags[0], -_START_RHO, _START_RHO)])
        else:
            cor = np.clip(acf_to_pacf(np.clip(lags, -_START_RHO, _START_RHO)), -0.5, _START_RHO)
        out = np.concatenate([sds, cor])
        return np.where(np.isfinite(out), out, self.start())

    def start(self, scale: np.ndarray | None = None) -> np.ndarray:
        """lme4's start: relative sds 1 (or ``1 / scale`` per column), correlations 0."""
        s = np.ones(self.k) if scale is None else 1.0 / np.asarray(scale, dtype=float)
        sds = np.array([np.sqrt(np.mean(s**2))]) if self.hom else s
        return np.concatenate([sds, np.zeros(self.n_cor)])

    # ------------------------------------------------------------ the residual ridge
    def ridge_shift(self, psi: np.ndarray, eps: float) -> np.ndarray | None:
        """ψ' with T'T' (1 − ε) = T T' + ε I: with one effect per observation, the same marginal
        covariance at σ'² = σ² (1 − ε), so the criterion is flat along ε (a ridge). None where
        the structure cannot absorb ε I (ar1, heterogeneous sds)."""
        if not self.hom or self.kind == "ar1":
            return None
        s2 = float(psi[0]) ** 2
        if not (s2 + eps > 0 and eps < 1.0):
            return None
        sd = np.array([np.sqrt((s2 + eps) / (1.0 - eps))])
        if self.kind == "diag":
            return sd
        P = (s2 * self.correlation(psi[1:]) + eps * np.eye(self.k)) / (s2 + eps)
        if self.kind == "cs":
            return np.concatenate([sd, [P[1, 0]]])
        return np.concatenate([sd, acf_to_pacf(P[1:, 0])])

    # ------------------------------------------------------------ reporting
    def describe(self, psi: np.ndarray) -> str:
        """The structure with its correlation parameters, e.g. ``"ar1, ρ = 0.880"``."""
        name = self.kind + (" (homogeneous)" if self.hom and self.kind != "ar1" else "")
        if self.kind == "ar1" and not self.hom:
            name += " (heterogeneous)"
        cor = np.asarray(psi[self.n_sd :], dtype=float)
        if self.kind in ("cs", "ar1"):
            return f"{name}, ρ = {cor[0]:.3f}"
        if self.kind == "toep":
            acf = pacf_to_acf(cor)[1:]
            shown = ", ".join(f"{r:.3f}" for r in acf[:_SHOWN_LAGS])
            more = ", …" if len(acf) > _SHOWN_LAGS else ""
            return f"{name}, ρ(lag 1..{self.k - 1}) = {shown}{more}"
        return name


def make_structure(kind: str, k: int, hom: bool) -> CovStructure:
    """A :class:`CovStructure`, checked.

    Raises
    ------
    ValueError
        An unknown kind, or fewer than 2 columns for cs, ar1 or toep.
    """
    if kind not in STRUCTURES:
        raise ValueError(f"unknown covariance structure {kind!r}; known: {', '.join(STRUCTURES)}")
    if kind != "diag" and k < 2:
        raise ValueError(f"a {kind} structure needs at least 2 columns, not {k}")
    return CovStructure(kind, int(k), bool(hom))


def pacf_to_acf(pacf: np.ndarray) -> np.ndarray:
    """Lag correlations (ρ_0 = 1, ρ_1, …, ρ_m) of partial autocorrelations π_1..π_m
    (Durbin–Levinson)."""
    rho = [1.0]
    phi = np.zeros(0)
    for p in np.asarray(pacf, dtype=float):
        m = len(phi) + 1
        past = np.array(rho[1:m])  # ρ_1..ρ_(m-1)
        r = float(phi @ past[::-1]) + p * (1.0 - float(phi @ past)) if m > 1 else p
        rho.append(r)
        phi = np.concatenate([phi - p * phi[::-1], [p]])
    return np.array(rho)


def acf_to_pacf(acf: np.ndarray) -> np.ndarray:
    """Partial autocorrelations of lag correlations ρ_1..ρ_m (Durbin–Levinson forward); NaN
    from the first lag where the sequence is not positive definite."""
    rho = np.concatenate([[1.0], np.asarray(acf, dtype=float)])
    out = np.full(len(rho) - 1, np.nan)
    phi = np.zeros(0)
    v = 1.0
    for m in range(1, len(rho)):
        p = (rho[m] - float(phi @ rho[1:m][::-1])) / v
        if not abs(p) < 1.0:
            break
        out[m - 1] = p
        phi = np.concatenate([phi - p * phi[::-1], [p]])
        v *= 1.0 - p * p
    return np.where(np.isfinite(out), out, 0.0)


def _cs_factor(rho: float, k: int) -> np.ndarray:
    """Cholesky factor of the k×k compound-symmetry correlation matrix (closed form: column j
    below the diagonal is one value)."""
    L = np.zeros((k, k))
    acc = 0.0
    for j in range(k):
        d = np.sqrt(max(1.0 - acc, 0.0))
        L[j, j] = d
        c = (rho - acc) / d if d > 0 else 0.0
        L[j + 1 :, j] = c
        acc += c * c
    return L


def _toeplitz_factor(acf: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of the Toeplitz correlation matrix of ``acf`` (ρ_0 = 1, …); the
    innovations of the Durbin–Levinson recursion where it is singular (a |π| of 1)."""
    k = len(acf)
    lag = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    P = acf[lag]
    try:
        return np.linalg.cholesky(P)
    except np.linalg.LinAlgError:
        return _psd_factor(P)


def _psd_factor(P: np.ndarray) -> np.ndarray:
    """Cholesky factor of a positive semidefinite P (zero columns at vanishing pivots)."""
    k = P.shape[0]
    L = np.zeros((k, k))
    for j in range(k):
        d = P[j, j] - L[j, :j] @ L[j, :j]
        if d <= 1e-12:
            continue
        L[j, j] = np.sqrt(d)
        L[j + 1 :, j] = (P[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    return L
