"""Row-level results of a fit with a residual structure (:class:`~.residual.ResidualModelFit`):
BLUPs and their conditional sds, fitted values, residuals (response, Pearson, normalized),
prediction, simulation and refits.

With V = ZGZ' + σ²Λ_R(φ) and Λ_i = C_i C_iᵀ per subject, the engine fits the problem whitened
by C⁻¹ (:mod:`mixedfit.engine.residual`): its Z̃ = C⁻¹Z, X̃, ỹ give Ṽ = C⁻¹VC⁻ᵀ, so
Z̃'Ṽ⁻¹(ỹ − X̃β̂) = Z'V⁻¹(y − Xβ̂): the whitened problem's BLUPs are the original-scale BLUPs
û = GZ'V⁻¹(y − Xβ̂), and its conditional covariance σ̂²T(T'Z̃'Z̃T + I)⁻¹T' (T the relative
covariance factor of θ; lme4's ``condVar``, conditional on θ̂ and β̂) is G − GZ'V⁻¹ZG.
Subjects are nested in every grouping (checked when fitting), so whitening never mixes rows of
different levels and the terms' level codes hold.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from ..covariance import BoundResidual, ResidualStructure
from ..design import Design
from ..design import validation as v
from ..engine.limit_gls import limit_model
from ..engine.residual import ResidualFit, fit_residual
from ..engine.residual.by_edge import edge_rows
from ..engine.residual.edge_fit import edge_model, edge_sign, edge_slots
from ..engine.residual.rows import correlate, normalize, row_sd
from ..engine.solution import conditional_variances
from ..exceptions import MixedFitError
from .fit import engine_terms
from .fit_state import FitState
from .predict import predict_new

__all__ = [
    "RESIDUAL_TYPES",
    "ResidualRows",
    "condsd",
    "fitted_values",
    "per_group",
    "predict",
    "random_part",
    "refit",
    "residuals_of",
    "simulate",
]

RESIDUAL_TYPES = ("response", "pearson", "normalized")
"""The residual types of :func:`residuals_of` (nlme's ``residuals(fit, type=)``)."""

_Fit = TypeVar("_Fit", bound="ResidualRows")

_CHUNK_ENTRIES = 4_000_000  # bound on the (simulations × observations × k) array held at once


def per_group(design: Design, blocks: list[np.ndarray]) -> dict[str, pd.DataFrame]:
    """Per-term arrays (nlev, k) as frames keyed by grouping name (levels × columns), several
    terms on one factor joined into one frame, as the ordinary fit's ``ranef``."""
    out: dict[str, pd.DataFrame] = {}
    for spec, values in zip(design.spec.terms, blocks, strict=True):
        frame = pd.DataFrame(
            values, index=pd.Index(spec.levels, name=spec.name), columns=list(spec.columns)
        )
        if spec.name in out:
            taken = set(out[spec.name].columns)
            frame.columns = [f"{c}.1" if c in taken else c for c in frame.columns]
            frame = pd.concat([out[spec.name], frame], axis=1)
        out[spec.name] = frame
    return out


def condsd(fit: ResidualRows) -> list[np.ndarray]:
    """Conditional sds of the BLUPs per term, shape (nlev, k): √diag(G − GZ'V⁻¹ZG) at θ̂, φ̂
    (read off a copy of the engine's factor of the whitened rows)."""
    engine = fit._engine
    if not fit._design.terms:
        return []
    blocks = None
    if engine.at_limit:  # the limit model's (0 for a spanning term's observed cells)
        d = fit._design
        model = limit_model(tuple(engine_terms(d)), d.X, d.y - d.offset, 0.0)
        blocks = None if model is None else model.conditional_variances(engine.theta, engine.sigma)
    elif edge_sign(engine.model, engine.phi):  # φ = ±1: the edge model's (edge_fit.py)
        d = fit._design
        edge = edge_model(engine_terms(d), d.X, d.y - d.offset, engine.model, engine.phi)
        blocks = None if edge is None else edge.conditional_variances(engine.theta, engine.sigma)
    if blocks is None:
        blocks = conditional_variances(engine.factor.clone(), engine.theta, engine.sigma)
    return [np.sqrt(np.maximum(np.diagonal(V, axis1=1, axis2=2), 0.0)) for V in blocks]


def random_part(fit: ResidualRows) -> np.ndarray:
    """Zû per row, shape (nobs,)."""
    d = fit._design
    total = np.zeros(len(d.y))
    for term, b in zip(d.terms, fit._engine.solution.b, strict=True):
        total += np.einsum("nk,nk->n", term.Z, b[term.refs])
    return total


def fitted_values(fit: ResidualRows, random: bool = True) -> np.ndarray:
    """Xβ̂ + offset (+ Zû), shape (nobs,)."""
    d = fit._design
    base = d.X @ fit._engine.beta + d.offset
    return base + random_part(fit) if random else base


def residuals_of(fit: ResidualRows, type: str = "response") -> np.ndarray:
    """Residuals y − Xβ̂ − Zû of the given type (see :meth:`ResidualModelFit.residuals_of`)."""
    key = type.strip().lower() if isinstance(type, str) else type
    if key not in RESIDUAL_TYPES:
        raise MixedFitError(f"type must be one of {list(RESIDUAL_TYPES)}, not {type!r}")
    r = fit._design.y - fitted_values(fit)
    if key == "response":
        return r
    engine = fit._engine
    model = engine.model
    if engine.at_limit:  # σ̂ = 0 at the σ → 0 limit: no scaled residuals
        return np.full(len(r), np.nan)
    if key == "pearson":
        return r / (engine.sigma * row_sd(model, engine.phi))
    if not edge_sign(model, engine.phi):
        return normalize(model, engine.phi, r / engine.sigma)
    # Λ_R(±1) singular: no whitened residuals in the rows at the edge (a by= group's only)
    held = edge_rows(model, engine.phi)
    if held.all():
        return np.full(len(r), np.nan)
    phi = engine.phi.copy()
    phi[edge_slots(model, phi)] = 0.0  # any φ inside: those rows are NaN
    out = normalize(model, phi, r / engine.sigma)
    out[held] = np.nan
    return out


def predict(
    fit: ResidualRows,
    newdata: pd.DataFrame | None,
    random: bool,
    allow_new_levels: bool,
    offset: np.ndarray | None,
) -> np.ndarray:
    """The prediction of :meth:`ResidualModelFit.predict` (see there)."""
    if newdata is None:
        return fitted_values(fit, random)
    return predict_new(fit._design, fit._engine.solution, newdata, random, allow_new_levels, offset)


def simulate(
    fit: ResidualRows, nsim: int = 1, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """Responses y* = Xβ̂ + offset + Zu* + ε*, u* ~ N(0, Ĝ), ε* ~ N(0, σ̂²Λ_R(φ̂)) per subject,
    shape (nobs, nsim) (see :meth:`mixedfit.ResidualMixedModel.simulate`)."""
    if isinstance(nsim, bool) or not isinstance(nsim, int | np.integer) or nsim < 0:
        raise MixedFitError(f"nsim must be a non-negative integer, not {nsim!r}")
    rng = np.random.default_rng(seed)
    design, engine = fit._design, fit._engine
    sigma, n = engine.sigma, len(design.y)  # the scale of θ
    noise_sd = 0.0 if engine.at_limit else sigma  # σ̂ = 0 at the σ → 0 limit: no noise
    Ts = engine.factor.layout.templates(engine.theta) if design.terms else []
    # everything drawn first, in a fixed order: the result does not depend on chunking
    spherical = [
        rng.standard_normal((nsim, len(spec.levels), T.shape[0]))
        for spec, T in zip(design.spec.terms, Ts, strict=True)
    ]
    noise = rng.standard_normal((n, nsim))
    out = (design.X @ engine.beta + design.offset)[None, :] + noise_sd * correlate(
        engine.model, engine.phi, noise
    ).T
    for term, T, u in zip(design.terms, Ts, spherical, strict=True):
        b = sigma * (u @ T.T)  # (nsim, nlev, k)
        chunk = max(1, _CHUNK_ENTRIES // max(n * T.shape[0], 1))
        for s0 in range(0, nsim, chunk):
            s1 = min(nsim, s0 + chunk)
            out[s0:s1] += np.einsum("nk,snk->sn", term.Z, b[s0:s1][:, term.refs, :])
    return np.ascontiguousarray(out.T)


def refit(
    fit: ResidualRows, reml: bool | None = None, y: np.ndarray | None = None
) -> tuple[Design, ResidualFit]:
    """The design (with the new response, checked) and the engine fit of a refit, (θ, φ)
    started from this fit's estimates: see :meth:`ResidualModelFit.refit`."""
    d, engine = fit._design, fit._engine
    if reml is not None and not isinstance(reml, bool | np.bool_):
        raise MixedFitError(f"reml must be True, False or None, not {reml!r:.60}")
    labels = None if d.frame is None else d.frame.index  # a Series aligned by its labels
    design = d if y is None else replace(d, y=v.refit_response(y, len(d.y), labels))
    new = fit_residual(
        engine_terms(design),
        design.X,
        design.y - design.offset,
        engine.model,
        reml=engine.reml if reml is None else bool(reml),
        phi_start=engine.phi,
        theta_start=engine.theta,
    )
    return design, new


class ResidualRows(FitState):
    """The row-level results of :class:`~.residual.ResidualModelFit` (a base class of it)."""

    _design: Design
    _engine: ResidualFit
    _formula: str
    _structure: ResidualStructure
    _bound: BoundResidual
    _frame: pd.DataFrame

    # ----------------------------------------------------------- random effects
    @cached_property
    def _ranef(self) -> dict[str, pd.DataFrame]:
        return per_group(self._design, self._engine.solution.b)

    @property
    def ranef(self) -> dict[str, pd.DataFrame]:
        """BLUPs û = ĜZ'V̂⁻¹(y − Xβ̂) of the random effects (V = ZGZ' + σ²Λ_R, nlme's
        ``ranef``): grouping name → levels × columns, as the ordinary fit; empty without
        random effects."""
        return {k: f.copy() for k, f in self._ranef.items()}

    @cached_property
    def _ranef_condsd(self) -> dict[str, pd.DataFrame]:
        return per_group(self._design, condsd(self))

    @property
    def ranef_condsd(self) -> dict[str, pd.DataFrame]:
        """Conditional sds of the BLUPs, √diag(Ĝ − ĜZ'V̂⁻¹ZĜ): lme4's ``condVar`` definition
        (conditional on θ̂, φ̂ and β̂, as the ordinary fit's); nlme reports none. Shaped as
        :attr:`ranef`."""
        return {k: f.copy() for k, f in self._ranef_condsd.items()}

    # ----------------------------------------------------------- rows
    @property
    def fitted(self) -> np.ndarray:
        """Fitted values Xβ̂ + Zû (+ offset), shape (nobs,), the rows the model uses in data
        order: nlme's level-1 fitted values of ``lme``, Xβ̂ of ``gls``."""
        return fitted_values(self)

    @property
    def residuals(self) -> np.ndarray:
        """Response residuals y − :attr:`fitted`, shape (nobs,)."""
        return self.residuals_of("response")

    @property
    def scaled_residuals(self) -> np.ndarray:
        """Pearson residuals: :attr:`residuals` over each row's residual sd σ̂√(Λ_R)ᵢᵢ
        (``residuals_of("pearson")``); NaN at the σ → 0 limit (σ̂ = 0)."""
        return self.residuals_of("pearson")

    def residuals_of(self, type: str = "response") -> np.ndarray:
        """Residuals of a given type, nlme's ``residuals(fit, type=)`` (level 1 for ``lme``).

        Parameters
        ----------
        type : {"response", "pearson", "normalized"}
            "response": y − Xβ̂ − Zû. "pearson": divided by the row's residual sd σ̂√(Λ_R)ᵢᵢ.
            "normalized": the Pearson residuals whitened by the Cholesky factor of each
            subject's residual correlation block (C_i⁻¹ r_i / σ̂ with C_i C_iᵀ = Λ_i, rows in data
            order as nlme; compound symmetry: nlme's Helmert-type factor, as ``corCompSymm``),
            independent with unit variance under the model.

        Returns
        -------
        ndarray, shape (nobs,)
            The rows the model uses, in data order.
        """
        return residuals_of(self, type)

    # ----------------------------------------------------------- prediction
    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        random: bool = True,
        allow_new_levels: bool = True,
        offset: np.ndarray | None = None,
        interval: str | None = None,
        level: float = 0.95,
    ) -> np.ndarray:
        """Predict the response: Xβ̂ (+ Zû), as nlme's ``predict.gls`` / ``predict.lme``.

        ``interval=`` (confidence / prediction intervals) is not implemented for fits with a
        residual structure yet and raises :class:`NotImplementedError`.

        No kriging: the residual correlation does not carry a subject's observed residuals
        over to its new rows (nlme's predictions do not either), and the structure's columns
        (time, subject) are not needed in ``newdata``.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            New rows; defaults to the data of the fit (then equal to :attr:`fitted`).
        random : bool
            Include the BLUPs (nlme's level 1); False gives Xβ̂ only (level 0).
        allow_new_levels : bool
            New levels of a grouping factor contribute a zero random effect; if False they raise.
        offset : array-like, shape (m,), optional
            An offset given as an argument when fitting (formula ``offset()`` terms are
            evaluated from ``newdata``).

        Returns
        -------
        ndarray, shape (m,)
            NaN where a fixed-effects variable of a row is missing.

        Raises
        ------
        DataError
            On new levels when ``allow_new_levels`` is False, or unseen fixed-effect categories.
        """
        if interval is not None:
            raise NotImplementedError(
                "predict(interval=...) is not implemented yet for fits with a residual "
                "covariance structure (residual=); predict() gives the point predictions"
            )
        return predict(self, newdata, random, allow_new_levels, offset)

    def refit(self: _Fit, reml: bool | None = None, y: np.ndarray | None = None) -> _Fit:
        """The same model (design and structure) fitted again, by REML or ML, or to a new
        response.

        Parameters
        ----------
        reml : bool, optional
            Defaults to this fit's method.
        y : ndarray, shape (nobs,), optional
            A new response for the same rows (e.g. simulated); defaults to the data's.

        Returns
        -------
        ResidualModelFit
            Of the same class as this fit; (θ, φ) started from this fit's estimates.

        Notes
        -----
        A warm start: the optimization begins at this fit's (θ̂, φ̂) (from an edge fit at
        φ̂ = ±1, just inside it), so a new ``y`` can end in that start's basin. An AR(1)
        residual beside a structured term (a multimodal criterion) gets the same safeguards as
        a fresh fit from there: the restarts (mirror, φ = ±0.5, the (φ, ρ) grid) and both
        edges φ → ±1; other models are refitted from the warm start alone.
        Warnings are not emitted; the refit's ``optimizer`` record says whether it converged.
        """
        design, engine = refit(self, reml, y)
        make = cast(Any, type(self))  # ResidualModelFit's constructor
        new = make(design, engine, self._formula, self._structure, self._bound, self._frame)
        return cast(_Fit, new)
