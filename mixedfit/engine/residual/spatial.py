"""Isotropic spatial correlation (nlme corExp, corGaus, corSpher; SAS SP(EXP|GAU|SPH)).

The correlation of two rows at Euclidean distance d > 0 is (1 − c)·g(d/r): g = exp(−x), exp(−x²)
or 1 − 1.5x + 0.5x³ (x < 1), range r = e^{φ₁}, nugget c = logistic(φ₂) when there is one.

**The range's ridge.** As r → ∞ (with c ~ 1/r) the correlation tends to a constant over the data
and σ² to infinity: R = σ²(1 − c)J + R′ with R′ → τ²I − bD (exponential, spherical: a linear
variogram plus a nugget) or τ²I − bD² (Gaussian: a random plane plus a nugget). A REML criterion
is unchanged by adding X A Xᵀ to V, so with an intercept in X the σ²J part drops out and the
criterion has a finite limit, which can be higher than every interior optimum (Wheat2: the
linear-variogram limit −533.4185 against the spherical interior optimum −533.7434). The range is
bounded above by :data:`RANGE_BOUND` times the span of the coordinates (where the criterion is
within ~1e-6 of its limit and still far from rounding), :meth:`SpatialPart.other_starts` offers a
start far out on the ridge, and :meth:`SpatialPart.at_bound` explains a fit that ends at the bound.

With several blocks (subjects) the σ²J part is one per block and drops out of REML only if X
spans the blocks' indicators: otherwise the range is not on a ridge and its optimum can lie far
beyond :data:`RANGE_BOUND` (random walks around large subject levels: nlme's corExp range
8.9e6, 8e5 times the span, 39 log-likelihood units above the fit stopped at 1e5 times the span;
tests/test_residual_spatial_blocks.py). There the bound is :data:`RANGE_BOUND_BLOCKS`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from .correlation import CorrelationPart

__all__ = ["RANGE_BOUND", "RANGE_BOUND_BLOCKS", "RIDGE_START", "SpatialPart"]

_SPATIAL = ("exponential", "gaussian", "spherical")
RANGE_BOUND = 1e5
"""Largest range, as a multiple of the span (bounding-box diagonal) of the coordinates."""
RANGE_BOUND_BLOCKS = 1e8
"""Largest range with several blocks, as a multiple of the span: a correlation of 1 − 1e-8
over the span, where the criterion still resolves the variogram (CAR(1), unbounded, agrees)."""
RIDGE_START = (1e3, 1e-3)
"""The further start: range as a multiple of the span, nugget (c·r = the span: the nugget's
variance of the order of the variogram's rise over the data)."""
_AT_BOUND = math.log(10.0)  # a range within a factor 10 of its bound counts as at the bound
_CACHE_MAX = 1 << 21  # distance arrays up to this many entries are kept for the next call
_EXP_MAX = 700.0  # exp() of more overflows a float


class SpatialPart(CorrelationPart):
    """Isotropic spatial correlation of Euclidean distance (see the module docstring).

    Parameters
    ----------
    coords : ndarray, shape (n,) or (n, k)
    kind : {"exponential", "gaussian", "spherical"}
    nugget : bool
    typical : float
        A typical distance between two rows of a subject (the start's range).
    blocks : int
        The number of blocks (subjects): with more than one the range's bound is
        :data:`RANGE_BOUND_BLOCKS` times the span, else :data:`RANGE_BOUND` (module docstring).
    """

    _row_arrays = ("coords",)

    def __init__(
        self, coords: np.ndarray, kind: str, nugget: bool, typical: float, blocks: int = 1
    ) -> None:
        if kind not in _SPATIAL:
            raise ValueError(f"kind must be one of {_SPATIAL}, not {kind!r}")
        self.coords = np.asarray(coords, dtype=float).reshape(len(coords), -1)
        self.kind, self.nugget, self.typical = kind, nugget, typical
        self.bound = RANGE_BOUND if blocks <= 1 else RANGE_BOUND_BLOCKS
        self.names = ("log_range", "logit_nugget") if nugget else ("log_range",)
        span = np.ptp(self.coords, axis=0) if len(self.coords) else np.zeros(1)
        self.span = max(float(np.sqrt((span**2).sum())), typical, 1e-300)
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def rugged(self) -> bool:
        """The spherical kernel has compact support: a kink in the likelihood wherever a
        distance crosses the range, and many local optima (:mod:`.restart`)."""
        return self.kind == "spherical"

    def start(self) -> np.ndarray:
        r0 = [math.log(self.typical)]
        return np.array([*r0, math.log(0.1 / 0.9)] if self.nugget else r0)

    def upper(self) -> np.ndarray:
        return np.array([math.log(self.bound * self.span), math.inf][: self.size])

    def other_starts(self) -> list[np.ndarray]:
        """A start far out on the range's ridge."""
        r, c = RIDGE_START
        far = [math.log(r * self.span)]
        return [np.array([*far, math.log(c / (1 - c))] if self.nugget else far)]

    def ridge_point(self, phi: np.ndarray) -> tuple[np.ndarray, float] | None:
        """φ moved along the ridge to the range's bound, and the factor s of σ² there: the
        nugget's variance σ²c and the variogram's slope σ²(1 − c)/r^p (p = 2 for the Gaussian,
        else 1) kept, so that only the σ²J part changes (which REML ignores when X holds an
        intercept and the structure has one block). None when φ is at the bound already."""
        top = float(self.upper()[0])
        if phi[0] >= top:
            return None
        p = 2.0 if self.kind == "gaussian" else 1.0
        if p * (top - phi[0]) > _EXP_MAX:  # too far from the bound to move in one step
            return None
        grow = math.exp(p * (top - phi[0]))
        c = float(expit(phi[1])) if self.nugget else 0.0
        scale = c + grow * (1.0 - c)
        out = np.array(phi, dtype=float)
        out[0] = top
        if self.nugget:
            c_new = c / scale
            if not 0.0 < c_new < 1.0:  # the nugget's logit would leave the floats
                return None
            out[1] = math.log(c_new) - math.log1p(-c_new)
        return out, scale

    def distances(self, rows: np.ndarray) -> np.ndarray:
        """Euclidean distances (nsub, m, m) of each subject's rows; the last result is kept for
        the next call with the same ``rows`` object (the optimizer asks for the same rows)."""
        cached = self._cache
        if cached is not None and cached[0] is self.coords and cached[1] is rows:
            return cached[2]
        xy = self.coords[rows]
        d = np.sqrt(((xy[:, :, None, :] - xy[:, None, :, :]) ** 2).sum(axis=-1))
        if d.size <= _CACHE_MAX:
            self._cache = (self.coords, rows, d)
        return d

    def correlation(self, phi: np.ndarray, rows: np.ndarray) -> np.ndarray:
        d = self.distances(rows)
        x = d / math.exp(phi[0])
        if self.kind == "exponential":
            g = np.exp(-x)
        elif self.kind == "gaussian":
            g = np.exp(-x * x)
        else:
            g = np.where(x < 1.0, 1.0 - 1.5 * x + 0.5 * x**3, 0.0)
        c = float(expit(phi[1])) if self.nugget else 0.0
        return np.asarray(np.where(d == 0, 1.0, (1.0 - c) * g))

    def at_bound(self, phi: np.ndarray) -> str | None:
        """The warning's message when the range is at its bound (the ridge's limit)."""
        if phi[0] < self.upper()[0] - _AT_BOUND:
            return None
        nug = " plus a nugget" if self.nugget else ""
        limit = (
            f"a random plane in the coordinates{nug}"
            if self.kind == "gaussian"
            else f"a linear variogram{nug} (an intrinsic random field)"
        )
        params = "σ, the range and the nugget are" if self.nugget else "σ and the range are"
        others = " or ".join(f"kind={k!r}" for k in _SPATIAL if k != self.kind)
        return (
            f"range at its bound: the range of the {self.kind} spatial correlation ran to "
            f"{math.exp(phi[0]):.4g} ({self.bound:.0e} times the span of the coordinates), where "
            f"the correlation is numerically constant over the data, so the spatial correlation is "
            f"not identified. The model is equivalent to its limit, {limit}: the likelihood, the "
            f"fixed effects and the standard errors of their contrasts are meaningful, but "
            f"{params} not, nor are the standard errors of the overall level. Consider another "
            f"kind ({others}), a nugget-free model, or a trend in the coordinates or a block "
            f"effect in the fixed part instead"
        )

    def report(self, phi: np.ndarray) -> dict[str, float]:
        out = {"range": math.exp(phi[0])}
        if self.nugget:
            out["nugget"] = float(expit(phi[1]))
        return out
