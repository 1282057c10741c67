"""Satterthwaite's df of a fit at the σ → 0 limit of a structured term: the limit GLS's.

A fit moved to that limit (:mod:`..engine.vanishing`: ``ar1(0 + occf | Subject, hom=False)``,
a structured term with one effect per observation) is the GLS (or, with other terms nested in
the term's groups, the mixed model) whose residual covariance is the term's: V = s² V₁(θ) with
V₁ = Z Λ Λ' Z' (:mod:`..engine.limit_gls`), the anchor sd held at
:data:`~..engine.vanishing.LIMIT_SD` and s the fit's σ̂. The ordinary derivatives in (θ, σ) at
θ ~ 1e4 count σ, which is 0 in that model (Oxboys: 26.22/41.61 against the GLS's 25.68/41.04).
Here the variance parameters are the limit model's own, varpar = (θ without the anchor, a
structured term's correlations as atanh of their box, s), with the unprofiled deviance

    REML: log|V₁| + log|X'V₁⁻¹X| + r'V₁⁻¹r / s² + (n − p) log(2πs²)
    ML:   log|V₁|                + r'V₁⁻¹r / s² +  n      log(2πs²)

(minus the log prior weights) and Var(β̂) = s² (X'V₁⁻¹X)⁻¹, differentiated by central differences
with steps of :data:`STEP` of each parameter, in coordinates scaled to 1 (numDeriv's Richardson
method with its steps of 10 % gave 39.85 for 41.04: the Hessian's eigenvalues span 3e14 in
varpar itself, from the sds at ~1e4 to s ~1e-3; an sd at 0 is scaled as the anchor). Ordinary
terms crossed with the spanning term's groups and held at 0 by the fit
(:func:`..engine.limit_cross_polish.crossed_polish`: ``(1 | grp) + ar1(0 + occf | Subject)``)
are not in the limit model: the df are those of the nested model's limit
(:func:`..engine.limit_gls.model_at`), their θ held at 0, no parameters of it; such terms with a
positive variance are parameters of the crossed limit (:class:`..engine.limit_crossed.
CrossedLimit`). A limit fit without a limit model (a structured term crossed with the spanning
term's groups, no rows) gets NaN df with a BoundaryWarning. R references:
tests/reference/limit_df/ (nlme's gls and numDeriv), tests/reference/limit_crossed/ (dense).
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..engine import vanishing
from ..engine.limit_crossed import CrossedLimit
from ..engine.limit_gls import LimitModel, crossed_terms, limit_model, model_at
from ..engine.limit_polish import finite_differences
from ..engine.reterm import ThetaLayout
from ..exceptions import BoundaryWarning, MixedFitError

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = ["NO_LIMIT_DF", "STEP", "limit_varpar", "refuse_kenward_roger"]

STEP = 1e-4
"""Central-difference step, relative to each parameter (absolute where it is 0)."""
NO_LIMIT_DF = (
    "the df (and p-values, intervals) set to NaN: the fit is at the σ → 0 limit of a structured "
    "term, where σ is 0 and the df of the fit's parameters count it, and the limit model has no "
    "exact form here (a correlated residual structure, or a structured term crossed with that "
    "term's groups); fit it with residual= "
    "(the term's covariance as the residual structure) for its df"
)
_BOX_EDGE = 1e-12  # a boxed parameter at its bound is moved this far inside (atanh finite)


class _LimitDeviance:
    """The limit model's unprofiled deviance and Var(β̂) as functions of varpar."""

    def __init__(
        self, model: LimitModel | CrossedLimit, fit: MixedModelFit, held: np.ndarray
    ) -> None:
        engine = fit._engine
        layout = engine.factor.layout
        self.model, self.reml = model, engine.reml
        self.fixed_map = engine.factor.fixed_map
        self.theta = np.asarray(engine.theta, dtype=float)
        anchor = vanishing.anchor(self.theta, layout)  # the ray's (flat) direction
        # neither the anchor nor the entries ``held`` at 0 (terms not in the limit model)
        self.free = np.flatnonzero((np.arange(len(self.theta)) != anchor) & ~held)
        lower, upper = layout.lower()[self.free], layout.upper()[self.free]
        self.boxed = np.isfinite(lower) & np.isfinite(upper)
        self.low, self.width = lower[self.boxed], (upper - lower)[self.boxed]
        self.n, self.p = model.X.shape
        self._cache: dict[bytes, tuple[float, float, float, np.ndarray]] = {}

    def varpar(self, sigma: float) -> np.ndarray:
        u = self.theta[self.free].copy()
        unit = 2.0 * (u[self.boxed] - self.low) / self.width - 1.0
        u[self.boxed] = np.arctanh(np.clip(unit, -1.0 + _BOX_EDGE, 1.0 - _BOX_EDGE))
        return np.append(u, sigma)

    def _parts(self, u: np.ndarray) -> tuple[float, float, float, np.ndarray]:
        key = np.ascontiguousarray(u).tobytes()
        hit = self._cache.get(key)
        if hit is None:
            theta = self.theta.copy()
            z = np.array(u, dtype=float)
            z[self.boxed] = self.low + self.width * (np.tanh(z[self.boxed]) + 1.0) / 2.0
            theta[self.free] = z
            parts = self.model.parts(theta, self.fixed_map)
            nan = (math.nan, math.nan, math.nan, np.full((self.p, self.p), math.nan))
            hit = nan if parts is None else parts
            self._cache[key] = hit
        return hit

    def deviance(self, varpar: np.ndarray) -> float:
        logdet, ldx, r2, _ = self._parts(varpar[:-1])
        s2 = float(varpar[-1]) ** 2
        dev = logdet + r2 / s2 + self.n * math.log(2 * math.pi * s2) - self.model.log_weights
        if self.reml:
            dev += ldx - self.p * math.log(2 * math.pi * s2)
        return dev

    def vcov_beta(self, varpar: np.ndarray) -> np.ndarray:
        return float(varpar[-1]) ** 2 * self._parts(varpar[:-1])[3]


def limit_varpar(fit: MixedModelFit) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """varpar, the Hessian of the limit model's deviance there and the Jacobian of Var(β̂)
    (shape (k, p, p)) for a fit at the σ → 0 limit; None for any other fit. Without an exact
    limit model the Hessian and Jacobian are NaN (NaN df) and a BoundaryWarning says why."""
    engine = fit._engine
    factor = engine.factor
    if not vanishing.at_limit(np.asarray(engine.theta, dtype=float), factor.layout):
        return None
    theta = np.asarray(engine.theta, dtype=float)
    held = np.zeros(len(theta), dtype=bool)
    model: LimitModel | CrossedLimit | None = None
    if factor._X is not None and factor._y is not None:
        model = limit_model(factor.layout.terms, factor._X, factor._y, factor.log_weights)
        if model is None:  # terms crossed with the spanning term's groups
            model = model_at(factor, theta)
            if isinstance(model, LimitModel):  # vanished (θ 0): held there
                held = _entries(factor.layout, crossed_terms(factor.layout))
    p = len(engine.solution.beta)
    if model is None:
        warnings.warn(NO_LIMIT_DF, BoundaryWarning, stacklevel=4)
        k = len(engine.theta)
        return np.full(k, math.nan), np.full((k, k), math.nan), np.full((k, p, p), math.nan)
    crit = _LimitDeviance(model, fit, held)
    varpar = crit.varpar(engine.solution.sigma)
    scale = np.where(varpar != 0, np.abs(varpar), 1.0)
    # an sd at 0 (not a box's middle) on the ray's scale, the anchor's: with steps of 1e-4
    # absolute (relative sd 1e-8) its curvature vanished against the others' (a "flat" Hessian)
    scale[:-1][(varpar[:-1] == 0) & ~crit.boxed] = float(np.max(np.abs(crit.theta)))
    h = STEP * scale
    k = len(varpar)
    _, hessian, _ = finite_differences(crit.deviance, varpar, np.arange(k), h)
    jacobian = np.empty((k, p, p))
    for i in range(k):
        step = np.zeros(k)
        step[i] = h[i]
        jacobian[i] = (crit.vcov_beta(varpar + step) - crit.vcov_beta(varpar - step)) / (2 * STEP)
    # in w = varpar / scale (every entry 1): the Hessian's eigenvalues spanned 3e14 in varpar
    # itself (sds ~1e4, s ~1e-3), too wide for its eigendecomposition
    return varpar / scale, hessian / STEP**2, jacobian


def _entries(layout: ThetaLayout, terms: frozenset[int]) -> np.ndarray:
    """The mask over θ of the given terms' entries."""
    mask = np.zeros(layout.size, dtype=bool)
    for i in terms:
        off = layout.offsets[i]
        mask[off : off + layout.terms[i].npar] = True
    return mask


def refuse_kenward_roger(fit: MixedModelFit) -> None:
    """Raise for a fit at the σ → 0 limit: Kenward–Roger's adjustment needs the information of
    the variance parameters, of which σ is at 0 (the limit model is a GLS)."""
    engine = fit._engine
    layout = engine.factor.layout
    theta = np.asarray(engine.theta, dtype=float)
    if not vanishing.at_limit(theta, layout):
        return
    term = layout.terms[vanishing.limit_term(theta, layout)]
    kind = "structured" if term.structure is None else term.structure.kind
    raise MixedFitError(
        f"Kenward-Roger df are not available at the σ → 0 limit of the {kind} term (the fit's "
        "BoundaryWarning): its adjustment needs the information of the variance parameters, "
        "and σ is 0 there. Fit the limit model itself, with the term's covariance as the "
        "residual structure (e.g. ar1(0 + time | subject, hom=False) → mf.gls(..., residual="
        'mf.AR1("time", "subject", heterogeneous=True))), or use ddf="satterthwaite"'
    )
