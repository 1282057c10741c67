"""The immutable fitted model :class:`MixedModelFit` (and :func:`engine_terms`, the engine's view
of a design, used to fit and refit).

The top-level :class:`mixedfit.LinearMixedModel` subclasses it, adding printing, tests and
intervals.

Wraps the design recipe and the engine's estimates with names: fixed effects as a Series, the
variance components as lme4's ``as.data.frame(VarCorr(fit))``, BLUPs per grouping factor, and
prediction on new data.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..design import Design
from ..engine.lmm import EngineFit, fit_lmm
from ..engine.optimize import OptimizerRecord
from ..engine.reterm import ReTerm
from ..exceptions import MixedFitError
from .fit_state import FitState
from .new_response import response_fit
from .predict import predict_new
from .singular import singular_terms
from .structured import engine_term, sd_and_correlation, structure_notes, theta_names

__all__ = ["MixedModelFit", "engine_terms", "sd_and_correlation"]


def engine_terms(design: Design) -> list[ReTerm]:
    """The engine's view of a design's random-effects terms (arrays only)."""
    return [
        engine_term(t.refs, t.Z, spec)
        for t, spec in zip(design.terms, design.spec.terms, strict=True)
    ]


class MixedModelFit(FitState):
    """A fitted linear mixed-effects model (see :class:`mixedfit.LinearMixedModel`).

    Covariance parameters ``theta`` follow lme4: terms ordered by decreasing number of levels
    (as lme4's ``mkReTrms``), and within a term the lower triangle of its relative covariance
    factor in column-major order (only the diagonal for ``||`` terms).

    Do not construct directly; the attributes are read-only. A fit may be shared between
    threads: its methods never change it (those that evaluate the criterion elsewhere, such as
    profiles and Satterthwaite's derivatives, work on a private copy of the engine's factor),
    and the results do not depend on the threads.
    """

    def __init__(self, design: Design, engine: EngineFit, formula: str) -> None:
        self._design = design
        self._engine = engine
        self._formula = formula

    # ----------------------------------------------------------- criteria
    @property
    def formula(self) -> str:
        """The model formula as given."""
        return self._formula

    @property
    def reml(self) -> bool:
        """True for a REML fit, False for maximum likelihood."""
        return self._engine.reml

    @property
    def objective(self) -> float:
        """REML criterion (REML fits) or deviance −2 log L (ML fits) at the optimum."""
        return float(self._engine.objective)

    @property
    def loglik(self) -> float:
        """Log-likelihood (restricted log-likelihood for REML fits)."""
        return -0.5 * self.objective

    @property
    def dof(self) -> int:
        """Number of estimated parameters: fixed effects, θ, and σ."""
        return len(self.fixef) + len(self.theta) + 1

    @property
    def aic(self) -> float:
        """Akaike information criterion (from the REML criterion for REML fits, as lme4)."""
        return self.objective + 2 * self.dof

    @property
    def bic(self) -> float:
        """Bayesian information criterion."""
        return self.objective + self.dof * math.log(self.nobs)

    @property
    def nobs(self) -> int:
        """Observations used (after dropping rows with missing values)."""
        return len(self._design.y)

    @property
    def n_dropped(self) -> int:
        """Rows dropped because a variable the model uses was missing."""
        return self._design.n_dropped

    @property
    def dropped_fixed(self) -> tuple[str, ...]:
        """Fixed-effect columns dropped because they were aliased (rank-deficient X)."""
        return self._design.dropped_fixed

    # ----------------------------------------------------------- parameters
    @property
    def theta(self) -> np.ndarray:
        """Relative covariance parameters θ (see the class docstring for the order)."""
        return self._engine.theta.copy()

    @property
    def theta_names(self) -> list[str]:
        """Names of θ entries, ``group.column`` or ``group.column_i.column_j``."""
        return theta_names(list(self._design.spec.terms), self._engine.factor.layout.terms)

    @property
    def sigma(self) -> float:
        """Residual standard deviation σ̂; 0 at the σ → 0 limit of a structured term (the fit
        warned, ``mixedfit.BoundaryWarning``), where the covariances are the limit's."""
        return 0.0 if self._engine.at_limit else self._scale

    @property
    def _at_limit(self) -> bool:
        return self._engine.at_limit

    @property
    def _scale(self) -> float:
        """The scale of θ (σ̂ but at the σ → 0 limit, where it is that of the limit model)."""
        return self._engine.solution.sigma

    @property
    def fixef(self) -> pd.Series:
        """Fixed-effects estimates β̂, named by formulaic's column names."""
        names = list(self._design.spec.fixed_names)
        return pd.Series(self._engine.solution.beta.copy(), index=names, name="estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of β̂, σ̂² (X'V⁻¹X)⁻¹."""
        names = list(self._design.spec.fixed_names)
        V = self._scale**2 * self._engine.solution.vcov_unscaled
        return pd.DataFrame(V, index=names, columns=names)

    @property
    def se(self) -> pd.Series:
        """Standard errors of β̂."""
        return pd.Series(
            np.sqrt(np.diag(self.vcov.to_numpy())), index=self.fixef.index, name="std_error"
        )

    @cached_property
    def _covariances(self) -> dict[str, pd.DataFrame]:
        out = {}
        engine = self._engine
        if engine.cancelling:  # θ of columns that cancel is inaccurate: read off the centred θ'
            S = [self._scale**2 * R for R in engine.relative_covariances()]
        else:
            S = [self._scale**2 * T @ T.T for T in engine.factor.layout.templates(engine.theta)]
        for name, spec, cov in zip(self._group_keys, self._design.spec.terms, S, strict=True):
            cols = list(spec.columns)
            out[name] = pd.DataFrame(cov, index=cols, columns=cols)
        return out

    @property
    def structures(self) -> dict[str, str]:
        """Covariance structure of each structured term (``diag(...)``, ``cs(...)``, …) keyed as
        :meth:`covariances`, e.g. ``{"Subject": "ar1, ρ = 0.880"}``; ordinary terms are left
        out (their covariance is unstructured)."""
        layout = self._engine.factor.layout
        specs = list(self._design.spec.terms)
        return structure_notes(specs, list(layout.terms), self.theta, list(layout.offsets))

    @property
    def covariances(self) -> dict[str, pd.DataFrame]:
        """Covariance matrix σ² T T' of each term's random effects, keyed by unique group name
        (a repeated grouping factor gets ``.1``, ``.2`` as in lme4's VarCorr)."""
        return {k: v.copy() for k, v in self._covariances.items()}

    @cached_property
    def _varcorr(self) -> pd.DataFrame:
        rows: list[dict[str, Any]] = []
        for (name, S), term in zip(
            self._covariances.items(), self._engine.factor.layout.terms, strict=True
        ):
            cols = list(S.index)
            sd, corr = sd_and_correlation(S.to_numpy())
            for a, col in enumerate(cols):
                rows.append(dict(grp=name, var1=col, var2="", vcov=S.iat[a, a], sdcor=sd[a]))
            if term.correlated:
                for a in range(len(cols)):
                    for b in range(a + 1, len(cols)):
                        rows.append(
                            dict(
                                grp=name,
                                var1=cols[a],
                                var2=cols[b],
                                vcov=S.iat[a, b],
                                sdcor=corr[a, b],
                            )
                        )
        rows.append(dict(grp="Residual", var1="", var2="", vcov=self.sigma**2, sdcor=self.sigma))
        return pd.DataFrame(rows, columns=["grp", "var1", "var2", "vcov", "sdcor"])

    @property
    def varcorr(self) -> pd.DataFrame:
        """Variance components as R's ``as.data.frame(VarCorr(fit))``.

        Columns ``grp, var1, var2, vcov, sdcor``: per term the variances (sdcor = SD), then the
        covariances (sdcor = correlation), then the residual.
        """
        return self._varcorr.copy()

    @cached_property
    def _group_keys(self) -> list[str]:
        """Unique names of the terms: a repeated grouping factor gets ``.1``, ``.2`` (as lme4)."""
        seen: dict[str, int] = {}
        keys = []
        for spec in self._design.spec.terms:
            count = seen.get(spec.name, 0)
            keys.append(spec.name if count == 0 else f"{spec.name}.{count}")
            seen[spec.name] = count + 1
        return keys

    # ----------------------------------------------------------- random effects
    def _per_group(self, blocks: list[np.ndarray]) -> dict[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {}
        for spec, values in zip(self._design.spec.terms, blocks, strict=True):
            frame = pd.DataFrame(
                values, index=pd.Index(spec.levels, name=spec.name), columns=list(spec.columns)
            )
            if spec.name in out:  # several terms on one factor: one frame, as lme4's ranef
                taken = set(out[spec.name].columns)
                frame.columns = [f"{c}.1" if c in taken else c for c in frame.columns]
                frame = pd.concat([out[spec.name], frame], axis=1)
            out[spec.name] = frame
        return out

    @cached_property
    def _ranef(self) -> dict[str, pd.DataFrame]:
        return self._per_group(self._engine.solution.b)

    @property
    def ranef(self) -> dict[str, pd.DataFrame]:
        """Conditional modes (BLUPs) of the random effects: group name → levels × columns."""
        return {k: v.copy() for k, v in self._ranef.items()}

    @cached_property
    def _ranef_condsd(self) -> dict[str, pd.DataFrame]:
        blocks = self._engine.conditional_variances()
        sds = [np.sqrt(np.maximum(np.diagonal(V, axis1=1, axis2=2), 0.0)) for V in blocks]
        return self._per_group(sds)

    @property
    def ranef_condsd(self) -> dict[str, pd.DataFrame]:
        """Conditional standard deviations of the BLUPs (lme4's ``condVar``), as :attr:`ranef`."""
        return {k: v.copy() for k, v in self._ranef_condsd.items()}

    # ----------------------------------------------------------- fit quality
    @cached_property
    def _random_part(self) -> np.ndarray:
        total = np.zeros(self.nobs)
        for term, b in zip(self._design.terms, self._engine.solution.b, strict=True):
            total += np.einsum("nk,nk->n", term.Z, b[term.refs])
        return total

    @property
    def fitted(self) -> np.ndarray:
        """Fitted values Xβ̂ + Zb̂ (+ offset), shape (nobs,)."""
        d = self._design
        return d.X @ self._engine.solution.beta + self._random_part + d.offset

    @property
    def residuals(self) -> np.ndarray:
        """Response residuals y − fitted, shape (nobs,)."""
        return self._design.y - self.fitted

    @property
    def scaled_residuals(self) -> np.ndarray:
        """Pearson residuals: residuals × √weight / σ̂; NaN at the σ → 0 limit (σ̂ = 0)."""
        w = self._design.weights
        r = self.residuals if w is None else self.residuals * np.sqrt(w)
        return np.full(len(r), np.nan) if self._engine.at_limit else r / self.sigma

    @property
    def singular(self) -> bool:
        """True if the fit is on the boundary (a θ diagonal below 1e-4, as lme4's isSingular)."""
        return self._engine.singular

    @property
    def singular_terms(self) -> list[str]:
        """Terms on the boundary, e.g. ``["Batch: (Intercept)"]``: a θ diagonal below lme4's
        tolerance makes that column's variance zero or its correlations ±1; a structured term
        says what is singular (:func:`.singular.singular_terms`)."""
        engine = self._engine
        # the rank of a term's covariance is that of the centred columns' when they were used
        theta = engine.theta if engine._centred is None else engine._centred.theta
        layout = engine.factor.layout
        specs = self._design.spec.terms
        return singular_terms(self._group_keys, specs, layout.terms, layout.templates(theta))

    @property
    def converged(self) -> bool:
        """True if the optimizer met its convergence criteria and the derivative check at the
        optimum (lme4's scaled gradient, on the parameters not on a bound) passed."""
        check = self._engine.check
        return self._engine.record.converged and (check is None or check.message is None)

    @cached_property
    def optimizer(self) -> OptimizerRecord:  # frozen record: safe to share
        """The optimizer's record: evaluations, message, time, and the finite-difference
        gradient at the optimum (computed on first access)."""
        return replace(self._engine.record, gradient=self._engine.gradient())

    @property
    def ngroups(self) -> dict[str, int]:
        """Number of levels of each grouping factor."""
        return {spec.name: len(spec.levels) for spec in self._design.spec.terms}

    def refit(self, reml: bool | None = None, y: np.ndarray | None = None) -> MixedModelFit:
        """The same model fitted again, by REML or ML, or to a new response.

        Parameters
        ----------
        reml : bool, optional
            Defaults to this fit's method.
        y : array-like or pandas.Series, shape (nobs,), optional
            A new response for the same rows (e.g. simulated); defaults to the data's. A
            Series is matched to the rows by its labels (as a column of the data frame).

        Returns
        -------
        MixedModelFit
            Of the same class as this fit. To a new response ``y``: the fit
            :func:`mixedfit.lmer` gives on that response (same rows, weights and offset; its
            moment start and compiled optimization, bit for bit), without its warnings;
            otherwise from this fit's θ.
        """
        d = self._design
        if reml is not None and not isinstance(reml, bool | np.bool_):
            raise MixedFitError(f"reml must be True, False or None, not {reml!r:.60}")
        reml = self.reml if reml is None else reml
        if y is not None:  # as lmer: the canonical rows, the moment start (new_response.py)
            design, engine = response_fit(self, y, reml)
            return type(self)(design, engine, self._formula)
        engine = fit_lmm(
            engine_terms(d), d.X, d.y - d.offset, weights=d.weights, reml=reml,
            theta_start=self._engine.theta,
        )  # fmt: skip
        return type(self)(d, engine, self._formula)

    # ----------------------------------------------------------- prediction
    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        random: bool = True,
        allow_new_levels: bool = True,
        offset: np.ndarray | None = None,
    ) -> np.ndarray:
        """Predict the response.

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            New rows; defaults to the data of the fit (then equal to :attr:`fitted`).
        random : bool
            Include the random effects (conditional prediction); False gives Xβ̂ only.
        allow_new_levels : bool
            New levels of a grouping factor contribute a zero random effect; if False they raise.
        offset : array-like, shape (m,), optional
            An offset given to :func:`lmer` as an argument (formula ``offset()`` terms are
            evaluated from ``newdata`` automatically).

        Returns
        -------
        ndarray, shape (m,)
            NaN where a fixed-effects variable of a row is missing.

        Raises
        ------
        DataError
            On new levels when ``allow_new_levels`` is False, or unseen fixed-effect categories.
        """
        if newdata is None:
            d = self._design
            base = d.X @ self._engine.solution.beta + d.offset
            return base + self._random_part if random else base
        return predict_new(
            self._design, self._engine.solution, newdata, random, allow_new_levels, offset
        )
