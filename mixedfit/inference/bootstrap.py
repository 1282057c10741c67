"""Simulation from a fitted model and the parametric bootstrap (lme4's ``simulate`` and
``bootMer``), with boot's percentile intervals."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.stats

from ..engine.refit import ResponseRefits
from ..engine.result import SINGULAR_TOL
from ..engine.reterm import ThetaLayout
from ..engine.threads import single_threaded
from ..model import engine_terms
from ..model.residual import ResidualModelFit
from .parameters import engine_sdcor, parameter_names

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = ["bootstrap", "percentile_interval", "simulate"]

_CHUNK_ENTRIES = 4_000_000  # bound on the (simulations × observations × k) array held at once


def simulate(
    fit: MixedModelFit, nsim: int = 1, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """Responses simulated from the fitted model (lme4's ``simulate(fit, use.u = FALSE)``).

    Each simulation draws new random effects b ~ N(0, σ̂² Λ̂Λ̂') and new residuals
    εᵢ ~ N(0, σ̂²/wᵢ) (wᵢ the prior weights), around the fitted marginal mean Xβ̂ + offset.

    Parameters
    ----------
    fit : MixedModelFit
    nsim : int, default 1
        Number of simulated responses.
    seed : int or numpy.random.Generator, optional
        Seed of :func:`numpy.random.default_rng` (or a generator, which is advanced). The same
        seed gives the same responses.

    Returns
    -------
    ndarray, shape (nobs, nsim)
        One simulated response per column, on the scale of the data's response (the offset
        included).
    """
    if isinstance(fit, ResidualModelFit):  # R = σ²Λ_R(φ): correlated residuals
        from ..model.residual_rows import simulate as simulate_residual

        return simulate_residual(fit, nsim, seed)
    if nsim < 0:
        raise ValueError(f"nsim must be non-negative, not {nsim!r}")
    rng = np.random.default_rng(seed)
    design, engine = fit._design, fit._engine
    sigma = engine.solution.sigma
    n = len(design.y)
    Ts = engine.factor.layout.templates(engine.theta)
    Zs = [term.Z for term in design.terms]
    if engine._centred is not None:  # θ of cancelling columns is inaccurate: Z b = Z' b'
        Ts = engine.factor.layout.templates(engine._centred.theta)
        Ms = engine._centred.centring.M
        Zs = [Z if M is None else Z @ M for Z, M in zip(Zs, Ms, strict=True)]
    # Draw everything first, in a fixed order, so the result does not depend on chunking.
    spherical = [
        rng.standard_normal((nsim, len(spec.levels), T.shape[0]))
        for spec, T in zip(design.spec.terms, Ts, strict=True)
    ]
    noise = rng.standard_normal((nsim, n))
    noise_sd = fit.sigma  # 0 at the σ → 0 limit, where ``sigma`` is the scale of θ
    scale = np.full(n, noise_sd) if design.weights is None else noise_sd / np.sqrt(design.weights)
    out = (design.X @ engine.solution.beta + design.offset)[None, :] + noise * scale
    for term, Z, T, u in zip(design.terms, Zs, Ts, spherical, strict=True):
        b = sigma * (u @ T.T)  # (nsim, nlev, k)
        k = T.shape[0]
        chunk = max(1, _CHUNK_ENTRIES // max(n * k, 1))
        for s0 in range(0, nsim, chunk):
            s1 = min(nsim, s0 + chunk)
            out[s0:s1] += np.einsum("nk,snk->sn", Z, b[s0:s1][:, term.refs, :])
    return np.ascontiguousarray(out.T)


def bootstrap(
    fit: MixedModelFit, nsim: int, seed: int | np.random.Generator | None = None
) -> pd.DataFrame:
    """Parametric bootstrap (lme4's ``bootMer`` with ``use.u = FALSE``, ``type = "parametric"``).

    Each replicate refits the model (same design, weights, offset, and REML/ML setting) to a
    response from :func:`simulate`, as :func:`mixedfit.lmer` fits it: from the moment start of
    that response (fewer evaluations than from the fitted θ, which lies a sampling error away
    from each replicate's optimum). The cross products of the design and the factor's
    structure are built once for all replicates (:mod:`mixedfit.engine.refit`).

    Parameters
    ----------
    fit : MixedModelFit
    nsim : int
        Number of replicates.
    seed : int or numpy.random.Generator, optional
        As :func:`simulate`: the same seed gives the same table.

    Returns
    -------
    pandas.DataFrame, shape (nsim, len(theta) + 1 + p)
        One row per replicate (index ``replicate``); columns the parameters in the order and with
        the names of :func:`mixedfit.inference.intervals.confint` (SDs and correlations,
        ``sigma``, fixed effects). A correlation involving an SD estimated at 0 is NaN; a
        replicate whose refit failed is all NaN. ``attrs`` holds the counts ``failed`` and
        ``singular`` (boundary refits).
    """
    if isinstance(fit, ResidualModelFit):
        from .residual_bootstrap import bootstrap as bootstrap_residual

        return bootstrap_residual(fit, nsim, seed)
    design = fit._design
    Y = simulate(fit, nsim, seed)
    names = parameter_names(fit)
    table = np.full((nsim, len(names)), np.nan)
    failed = singular = 0
    if nsim == 0:
        refits = None
    else:  # the design's cross products and the factors' structure are built once
        refits = ResponseRefits(
            engine_terms(design),
            design.X,
            Y - design.offset[:, None],
            design.weights,
            fit.reml,
        )
    with single_threaded():  # once for all replicates, not per refit
        # the common case in compiled batches (engine/jit_refit.py); the rest one by one below
        compiled = None if refits is None else refits.estimates()
        if compiled is not None and compiled.done.any():
            assert refits is not None
            done = compiled.done
            theta, sigmas = compiled.theta[done], compiled.sigma[done]
            sdcor = _sdcor_rows(refits.factor.layout, theta, sigmas)
            table[done] = np.column_stack([sdcor, sigmas, compiled.beta[done]])
            diagonal = refits.factor.layout.diagonal_mask()
            singular += int(np.sum(np.any(theta[:, diagonal] < SINGULAR_TOL, axis=1)))
        for s in range(nsim):
            assert refits is not None
            if compiled is not None and compiled.done[s]:
                continue
            try:
                engine = refits.fit(s, blups=False)  # the table needs no BLUPs
            except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                failed += 1
                continue
            sol = engine.solution
            sigma = 0.0 if engine.at_limit else sol.sigma  # σ̂ of a refit at its σ → 0 limit
            table[s] = np.concatenate([engine_sdcor(engine), [sigma], sol.beta])
            singular += int(engine.singular)
    frame = pd.DataFrame(table, columns=names, index=pd.RangeIndex(nsim, name="replicate"))
    frame.attrs.update(failed=failed, singular=singular)
    return frame


def _sdcor_rows(layout: ThetaLayout, thetas: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """:func:`.parameters.sdcor_from_theta` of each row of ``thetas`` (r, m) with ``sigmas``
    (r,), for a layout without structured terms: the same operations on stacked arrays."""
    parts = []
    for term, off in zip(layout.terms, layout.offsets, strict=True):
        rows, cols = term.theta_index
        T = np.zeros((len(thetas), term.k, term.k))
        T[:, rows, cols] = thetas[:, off : off + term.npar]
        S = (sigmas**2)[:, None, None] * (T @ T.transpose(0, 2, 1))
        sd = np.sqrt(np.maximum(np.diagonal(S, axis1=1, axis2=2), 0.0))
        out = np.empty((len(thetas), len(rows)))
        for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
            if r == c:
                out[:, i] = sd[:, r]
                continue
            denom = sd[:, r] * sd[:, c]
            with np.errstate(all="ignore"):
                out[:, i] = np.where(denom > 0, S[:, r, c] / denom, np.nan)
        parts.append(out)
    return np.concatenate(parts, axis=1) if parts else np.zeros((len(thetas), 0))


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Bootstrap percentile interval, as boot's ``boot.ci(type = "perc")`` (which lme4 uses).

    The ends are the order statistics of rank (R + 1)·α and (R + 1)·(1 − α), α = (1 − level)/2,
    interpolated on the normal-quantile scale between ranks (boot's ``norm.inter``).

    Parameters
    ----------
    values : ndarray, shape (R,)
        Bootstrap replicates of one parameter; non-finite values are dropped.
    level : float
        Confidence level, in (0, 1).

    Returns
    -------
    tuple of float
        (lower, upper); NaN if no finite replicate.
    """
    t = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    R = len(t)
    if R == 0:
        return math.nan, math.nan
    alpha = (1 - level) / 2
    out = []
    for a in (alpha, 1 - alpha):
        rk = (R + 1) * a
        k = math.trunc(rk)
        if k == rk and 0 < k <= R:
            out.append(float(t[k - 1]))
        elif k <= 0:
            out.append(float(t[0]))
        elif k >= R:
            out.append(float(t[R - 1]))
        else:
            q, q0, q1 = scipy.stats.norm.ppf([a, k / (R + 1), (k + 1) / (R + 1)])
            out.append(float(t[k - 1] + (q - q0) / (q1 - q0) * (t[k] - t[k - 1])))
    return out[0], out[1]
