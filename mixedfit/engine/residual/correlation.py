"""Correlation structures as arrays: parameters φ → correlation matrices of each subject's rows.

A residual block of one subject is Λ = D C D (nlme's rule): C the correlation matrix of its rows
(a :class:`CorrelationPart`, here), D = diag(s) the standard-deviation multipliers of its rows (a
:class:`~.variance.VariancePart`, s = 1 without one). σ² multiplies Λ and stays profiled.

Every part holds its per-row data (time positions or values, strata, coordinates) and computes,
for a batch of subjects of equal size given as a matrix of row indices ``rows`` (nsub, m), their
correlation matrices (nsub, m, m) in one vectorized step. Parameters are unconstrained (see
:mod:`.maps`) unless a part's :meth:`lower` says otherwise.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from .labels import Block
from .maps import arma_acf, cs_rho, durbin_levinson, pacf_to_acf, unit_ratio
from .part import Part

__all__ = [
    "AR1Part",
    "ARMAPart",
    "AntePart",
    "CAR1Part",
    "CSPart",
    "CorrelationPart",
    "ToeplitzPart",
]


class CorrelationPart(Part, ABC):
    """Correlation matrices of the rows of each subject (φ: :class:`.part.Part`)."""

    qualifier: str = "correlation"

    @property
    def rugged(self) -> bool:
        """True if the criterion has kinks and many local optima in φ (:mod:`.restart` gives
        such fits more starts): False unless overridden (a spherical spatial correlation)."""
        return False

    def other_starts(self) -> list[np.ndarray]:
        """Further starting φ worth a run of their own (another basin, a ridge): none."""
        return []

    def ridge_point(self, phi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """φ moved along a ridge to its limit and the factor of σ² there, or None (no ridge)."""
        return None

    def at_bound(self, phi: np.ndarray) -> str | None:
        """Why ``phi`` is a degenerate limit (a parameter at a bound, not identified), or None."""
        return None

    def inverse_root(
        self, phi: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """A closed-form F (nsub, m, m) with F C Fᵀ = I and log |C| (nsub,) of the subjects whose
        rows are ``rows``, or None (no closed form: callers factor C by Cholesky)."""
        return None

    def stiffness(self, phi: np.ndarray) -> float:
        """The smallest ratio of two eigenvalues of C that the cross products weigh apart (a
        variance ratio, as a VarIdent ratio squared): 1 unless overridden (compound symmetry)."""
        return 1.0

    def row_keys(self) -> np.ndarray | None:
        """What the part reads of each row, shape (n, r), or (0, 0) when it reads nothing: the
        correlation of two distinct rows of a subject is a function of their keys alone (the
        fast path of :mod:`.patterns` groups subjects whose rows have equal keys). None: no
        such keys (the fast path is off)."""
        return None

    @abstractmethod
    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Correlation matrices (nsub, m, m) of the subjects whose rows are ``rows`` (nsub, m)."""

    @abstractmethod
    def report(self, phi: np.ndarray) -> dict[str, float]:
        """The parameters on nlme's constrained scale, by nlme's names."""

    def ratio_names(self) -> tuple[str, ...]:
        """The keys of :meth:`report` that are sd ratios (nlme holds them in a varIdent): none."""
        return ()

    def param_blocks(self, phi: np.ndarray) -> list[Block]:
        """:meth:`report` as the block of the correlation parameters (:mod:`.labels`)."""
        return [Block(self.qualifier, self.report(phi), correlation=True)]


_LAG_CACHE_MAX = 65_536  # lag arrays up to this many entries are kept for the next call


def _lags(
    time: np.ndarray, rows: np.ndarray, part: object | None = None, integer: bool = False
) -> np.ndarray:
    """|tᵢ − tⱼ| of each subject's rows, (nsub, m, m); as integers (indices) with ``integer``.
    With ``part``, a small result is kept on it for the next call with the same ``time`` and
    ``rows`` objects (the fast path asks for the same pattern rows at every evaluation)."""
    cached = getattr(part, "_lag_cache", None)
    if cached is not None and cached[0] is time and cached[1] is rows:
        return cached[2]
    t = time[rows]
    lag = np.abs(t[:, :, None] - t[:, None, :])
    if integer:
        lag = np.rint(lag).astype(np.intp)
    if part is not None and lag.size <= _LAG_CACHE_MAX:
        part._lag_cache = (time, rows, lag)  # type: ignore[attr-defined]
    return lag


class AR1Part(CorrelationPart):
    """ρ^|tᵢ−tⱼ| over integer time positions (gaps kept); ρ = u/√(1+u²)."""

    names = ("Phi",)

    _row_arrays = ("position",)

    def __init__(self, position: np.ndarray) -> None:
        self.position = np.asarray(position, dtype=float)
        span = np.ptp(self.position) if len(self.position) else 0.0
        self.max_lag = round(float(span))

    def row_keys(self) -> np.ndarray | None:
        return self.position[:, None]

    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        u = float(phi[0])
        rho = u / math.sqrt(1.0 + u * u)  # unit_ratio, on a scalar
        lag = _lags(self.position, rows, self, integer=True)
        return np.asarray(rho ** np.arange(self.max_lag + 1, dtype=float))[lag]  # ρ⁰ = 1

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return {"Phi": float(unit_ratio(phi[0]))}


class CAR1Part(CorrelationPart):
    """φ^|tᵢ−tⱼ| over real times; φ = exp(−e^κ) per unit of time (κ the log decay rate)."""

    names = ("log_rate",)

    _row_arrays = ("time",)

    def __init__(self, time: np.ndarray, typical_gap: float) -> None:
        self.time = np.asarray(time, dtype=float)
        self.typical_gap = typical_gap

    def start(self) -> np.ndarray:
        return np.array([math.log(math.log(2.0) / self.typical_gap)])  # corr ½ at a typical gap

    def row_keys(self) -> np.ndarray | None:
        return self.time[:, None]

    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(-math.exp(phi[0]) * _lags(self.time, rows, self)))

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return {"Phi": math.exp(-math.exp(phi[0]))}


class ARMAPart(CorrelationPart):
    """ARMA(p, q) autocorrelations at lag |tᵢ−tⱼ| of integer positions; φ = DL(π_AR),
    θ = −DL(−π_MA), π = tanh(u/2) (nlme's corARMA parameters)."""

    _row_arrays = ("position",)

    def __init__(self, position: np.ndarray, p: int, q: int) -> None:
        self.position = np.asarray(position, dtype=float)
        self.p, self.q = p, q
        self.max_lag = int(np.max(self.position) - np.min(self.position)) if len(position) else 0
        self.names = tuple(f"Phi{i + 1}" for i in range(p)) + tuple(
            f"Theta{i + 1}" for i in range(q)
        )

    def coefficients(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(AR φ, MA θ) of the unconstrained parameters."""
        pi = np.tanh(np.asarray(phi, dtype=float) / 2.0)
        return durbin_levinson(pi[: self.p]), -durbin_levinson(-pi[self.p :])

    def row_keys(self) -> np.ndarray | None:
        return self.position[:, None]

    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        ar, ma = self.coefficients(phi)
        acf = arma_acf(ar, ma, self.max_lag)
        return np.asarray(acf[_lags(self.position, rows, self).astype(np.intp)])

    def report(self, phi: np.ndarray) -> dict[str, float]:
        ar, ma = self.coefficients(phi)
        return dict(zip(self.names, [*map(float, ar), *map(float, ma)], strict=True))


class CSPart(CorrelationPart):
    """ρ between any two rows of a subject; ρ = logistic(u)(1+a) − a, a = 1/(M−1).

    Near the limit ρ → −a the block C = (1−ρ)I + ρJ of a subject of M rows is singular to
    working precision when formed from ρ's double (1 + (M−1)ρ cancels; issue 12, lane cseig).
    :meth:`eigenvalues` computes its two eigenvalues from u itself, and :meth:`inverse_root`
    whitens in C's eigenbasis (nlme's Helmert factor), so log |C| and the whitened rows stay
    accurate as 1 + (M−1)ρ → 1e-15 and below.
    """

    names = ("Rho",)

    def __init__(self, max_size: int) -> None:
        self.max_size = max(max_size, 2)

    def row_keys(self) -> np.ndarray | None:
        return np.zeros((0, 0))  # exchangeable rows: nothing to read

    def rho(self, phi: np.ndarray) -> float:
        return cs_rho(float(phi[0]), self.max_size)

    def eigenvalues(self, phi: np.ndarray, m: int) -> tuple[float, float]:
        """(1 − ρ, 1 + (m − 1)ρ): C's eigenvalue on the contrasts (m − 1 times) and on the ones
        vector, from u without cancellation: with s = logistic(u), 1 − ρ = (1 + a)(1 − s) and
        1 + (m−1)ρ = ((M − m) + (m − 1)M s)/(M − 1) (M s for m = M)."""
        u = float(phi[0])
        M = self.max_size
        s, sc = _logistic(u), _logistic(-u)
        return M / (M - 1) * sc, ((M - m) + (m - 1) * M * s) / (M - 1)

    def stiffness(self, phi: np.ndarray) -> float:
        """t = (1 + (M−1)ρ)/(1 − ρ) of the largest subjects (→ 0 at the limit)."""
        within, ones = self.eigenvalues(phi, self.max_size)
        return ones / within

    def inverse_root(self, phi: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """nlme's Helmert factor F (F C Fᵀ = I) from :meth:`eigenvalues`, and log |C|."""
        nsub, m = rows.shape
        within, ones = self.eigenvalues(phi, m)
        F = np.zeros((m, m))
        F[0] = 1.0 / math.sqrt(m * ones)
        for i in range(1, m):
            c = 1.0 / math.sqrt(within * i * (i + 1))
            F[i, :i] = -c
            F[i, i] = i * c
        logdet = math.log(ones) + (m - 1) * math.log(within)
        return np.broadcast_to(F, (nsub, m, m)), np.full(nsub, logdet)

    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        m = rows.shape[1]
        rho = self.rho(phi)
        C = np.full((m, m), rho)
        np.fill_diagonal(C, 1.0)
        return np.broadcast_to(C, (rows.shape[0], m, m))

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return {"Rho": self.rho(phi)}


def _logistic(u: float) -> float:
    """1/(1 + e^{−u}), accurate in both tails."""
    if u >= 0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


class _LevelMatrixPart(CorrelationPart):
    """A correlation matrix P over time levels 0..m−1; a subject's block is P[S, S]."""

    _row_arrays = ("level",)

    def __init__(self, level: np.ndarray, n_levels: int) -> None:
        self.level = np.asarray(level, dtype=np.intp)
        self.n_levels = n_levels

    @abstractmethod
    def level_matrix(self, phi: np.ndarray) -> np.ndarray:
        """P, shape (m, m)."""

    def row_keys(self) -> np.ndarray | None:
        return self.level[:, None].astype(float)

    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        P = self.level_matrix(phi)
        lv = self.level[rows]
        return np.asarray(P[lv[:, :, None], lv[:, None, :]])


class ToeplitzPart(_LevelMatrixPart):
    """P_ij = ρ_|i−j|; ρ from partial autocorrelations π_k = tanh(u_k) (positive definite)."""

    def __init__(self, level: np.ndarray, n_levels: int) -> None:
        super().__init__(level, n_levels)
        self.names = tuple(f"Rho{k}" for k in range(1, n_levels))

    def acf(self, phi: np.ndarray) -> np.ndarray:
        return np.concatenate([[1.0], pacf_to_acf(np.tanh(phi))])

    def level_matrix(self, phi: np.ndarray) -> np.ndarray:
        acf = self.acf(phi)
        idx = np.arange(self.n_levels)
        return np.asarray(acf[np.abs(idx[:, None] - idx[None, :])])

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return dict(zip(self.names, map(float, self.acf(phi)[1:]), strict=True))


class AntePart(_LevelMatrixPart):
    """First-order ante-dependence: P_ab = Π_{k=a}^{b−1} ρ_k, ρ_k = u_k/√(1+u_k²)."""

    def __init__(self, level: np.ndarray, n_levels: int) -> None:
        super().__init__(level, n_levels)
        self.names = tuple(f"Rho{k}" for k in range(1, n_levels))

    def level_matrix(self, phi: np.ndarray) -> np.ndarray:
        rho = unit_ratio(np.asarray(phi, dtype=float))
        m = self.n_levels
        P = np.eye(m)
        for a in range(m - 1):
            P[a, a + 1 :] = np.cumprod(rho[a:])
        return np.asarray(np.triu(P) + np.triu(P, 1).T)

    def report(self, phi: np.ndarray) -> dict[str, float]:
        return dict(zip(self.names, map(float, unit_ratio(np.asarray(phi))), strict=True))
