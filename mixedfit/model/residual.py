"""The fitted model with a residual covariance structure, :class:`ResidualModelFit` (R = σ²Λ_R(φ),
issue 12), and :class:`FittedResidual`, the structure spec with its estimates.

Phase 2a: estimates, criteria, the residual block per subject, variance components and Wald
z-tests; the row-level results (BLUPs, fitted values, residuals, prediction, refits) from
:class:`~.residual_rows.ResidualRows`. Methods of :class:`~.fit.MixedModelFit` not yet
implemented for these fits raise :class:`NotImplementedError` naming the method (never a
silently wrong number).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from scipy import stats

from ..covariance import BoundResidual, Combined, ResidualStructure
from ..design import Design
from ..engine.optimize import OptimizerRecord
from ..engine.residual import ResidualFit
from ..exceptions import DataError, MixedFitError
from .fit import sd_and_correlation
from .residual_rows import ResidualRows
from .singular import is_singular, singular_terms, term_keys

__all__ = ["FittedResidual", "ResidualModelFit", "not_implemented"]

PLANNED_PROPERTIES: tuple[str, ...] = ()
"""Attributes of the ordinary fitted model not implemented for residual-structure fits yet."""
PLANNED: tuple[str, ...] = ()
"""Methods of the ordinary fitted model not implemented for residual-structure fits yet."""


def not_implemented(what: str) -> NoReturn:
    """Raise the :class:`NotImplementedError` of a method planned for residual-structure fits."""
    raise NotImplementedError(
        f"{what} is not implemented yet for fits with a residual covariance structure "
        "(residual=); it is planned (issue 12, phase 2)"
    )


def _planned(name: str) -> Any:
    def method(self: ResidualModelFit, *args: Any, **kwargs: Any) -> NoReturn:
        not_implemented(f"{name}()")

    method.__name__ = name
    method.__doc__ = "Not implemented yet for residual-structure fits (planned): raises."
    return method


def _planned_property(name: str) -> property:
    def getter(self: ResidualModelFit) -> NoReturn:
        not_implemented(name)

    return property(getter, doc="Not implemented yet for residual-structure fits: raises.")


def structure_name(structure: ResidualStructure) -> str:
    """The structure as written: ``AR1(time='occ', subject='Subject')``, parts joined by ``&``."""
    if isinstance(structure, Combined):
        return " & ".join(structure_name(p) for p in structure.parts)
    return repr(structure)


@dataclass(frozen=True)
class FittedResidual:
    """A residual structure with its estimates (``fit.residual``).

    Attributes
    ----------
    structure : ResidualStructure
        The spec as given (its fields, e.g. ``time``, ``subject``, are readable here too).
    params : pandas.Series
        The estimates on nlme's scale (ρ as ``Phi``, ``Theta``, δ as ``power`` / ``expon``,
        variance ratios, correlations), named as nlme prints them.
    """

    structure: ResidualStructure
    params: pd.Series

    @property
    def name(self) -> str:
        return structure_name(self.structure)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.structure, name)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"{self.name}: {values}" if values else self.name


class ResidualModelFit(ResidualRows):
    """A fitted model y = Xβ + Zu + ε with ε ~ N(0, σ²Λ_R(φ)) (see :func:`mixedfit.gls`).

    The criteria are on nlme's (and SAS's) scale; the REML log-likelihood equals lme4's.
    Parameters counted in :attr:`dof` (for :attr:`aic`, :attr:`bic`): len(θ) + len(φ) + 1 (σ²)
    + p, as nlme's ``logLik`` df (mmrm's REML AIC counts the covariance parameters only, p
    fewer).

    Do not construct directly; the attributes are read-only.
    """

    def __init__(
        self,
        design: Design,
        engine: ResidualFit,
        formula: str,
        structure: ResidualStructure,
        bound: BoundResidual,
        frame: pd.DataFrame,
    ) -> None:
        self._design = design
        self._engine = engine
        self._formula = formula
        self._structure = structure
        self._bound = bound
        self._frame = frame  # the data's rows the model uses (structure columns read here)

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
        """−2 log-likelihood (restricted for REML fits) at the optimum, nlme's scale."""
        return float(self._engine.objective)

    @property
    def loglik(self) -> float:
        """Log-likelihood (restricted log-likelihood for REML fits), as nlme's ``logLik``."""
        return -0.5 * self.objective

    @property
    def dof(self) -> int:
        """Estimated parameters: len(θ) + len(φ) + 1 (σ²) + p (nlme's count)."""
        return len(self.theta) + len(self._engine.phi) + 1 + len(self._engine.beta)

    @property
    def aic(self) -> float:
        """Akaike information criterion, −2 log L + 2 :attr:`dof` (REML: from the REML
        criterion, as nlme)."""
        return self.objective + 2 * self.dof

    @property
    def bic(self) -> float:
        """Bayesian information criterion on nlme's scale: −2 log L + :attr:`dof` log(n), with
        n − p observations for REML fits (nlme's ``BIC`` of ``gls``/``lme``)."""
        n = self.nobs - (len(self.fixef) if self.reml else 0)
        return self.objective + self.dof * math.log(n)

    @property
    def nobs(self) -> int:
        """Observations used (after dropping rows with missing values)."""
        return len(self._design.y)

    @property
    def n_dropped(self) -> int:
        """Rows dropped because a variable the model uses was missing."""
        return self._design.n_dropped

    @property
    def converged(self) -> bool:
        """True if the optimizer met its convergence criteria and, below
        :data:`~mixedfit.engine.convergence.MAX_NOBS` rows, lme4's derivative check at (θ̂, φ̂)
        passed (as ordinary fits)."""
        return bool(self._engine.record.converged)

    @property
    def optimizer(self) -> OptimizerRecord:
        """The optimizer's record over x = (θ, φ): evaluations (with the derivative check's),
        message, time, and the finite-difference gradient at the optimum (None when the check
        was skipped: ≥ MAX_NOBS rows)."""
        return self._engine.record

    # ----------------------------------------------------------- parameters
    @property
    def theta(self) -> np.ndarray:
        """Random-effects parameters θ (lme4's layout, relative to σ); empty for GLS."""
        return self._engine.theta.copy()

    @property
    def sigma(self) -> float:
        """σ̂: the residual scale (the sd at the structure's reference level); 0 at the σ → 0
        limit of a structured term (the fit warned, ``mixedfit.BoundaryWarning``), where the
        covariances are the limit's."""
        return 0.0 if self._at_limit else self._scale

    @property
    def _at_limit(self) -> bool:
        return self._engine.at_limit

    @property
    def _scale(self) -> float:
        """The scale of θ (σ̂ but at the σ → 0 limit, where it is that of the limit model)."""
        return float(self._engine.sigma)

    @property
    def fixef(self) -> pd.Series:
        """Fixed-effects estimates β̂."""
        names = list(self._design.spec.fixed_names)
        return pd.Series(self._engine.beta.copy(), index=names, name="estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        """Model-based covariance of β̂, σ̂² (X'V⁻¹X)⁻¹ with the fit's σ̂² (REML, or ML's σ̂²
        for ML fits, as ``nlme::lme`` and mmrm; ``nlme::gls`` inflates ML fits' by n / (n − p))."""
        names = list(self._design.spec.fixed_names)
        return pd.DataFrame(self._engine.vcov, index=names, columns=names)

    @property
    def se(self) -> pd.Series:
        """Standard errors of β̂ (model-based)."""
        return pd.Series(
            np.sqrt(np.diag(self._engine.vcov)), index=self.fixef.index, name="std_error"
        )

    @property
    def residual(self) -> FittedResidual:
        """The residual structure with its estimates (``.params``)."""
        params = pd.Series(self._engine.residual_params(), dtype=float, name="estimate")
        return FittedResidual(self._structure, params)

    @property
    def varcorr(self) -> pd.DataFrame:
        """Random-effects variance components as R's ``as.data.frame(VarCorr(fit))`` (columns
        ``grp, var1, var2, vcov, sdcor``), then the residual scale σ̂ (row ``Residual``)."""
        rows: list[dict[str, Any]] = []
        layout = self._engine.factor.layout
        templates = layout.templates(self._engine.theta)
        for spec, term, T in zip(self._design.spec.terms, layout.terms, templates, strict=True):
            S = self._scale**2 * T @ T.T
            cols = list(spec.columns)
            sd, corr = sd_and_correlation(S)
            for a, col in enumerate(cols):
                rows.append(dict(grp=spec.name, var1=col, var2="", vcov=S[a, a], sdcor=sd[a]))
            if term.correlated:
                for a in range(len(cols)):
                    for b in range(a + 1, len(cols)):
                        rows.append(
                            dict(
                                grp=spec.name,
                                var1=cols[a],
                                var2=cols[b],
                                vcov=S[a, b],
                                sdcor=corr[a, b],
                            )
                        )
        rows.append(dict(grp="Residual", var1="", var2="", vcov=self.sigma**2, sdcor=self.sigma))
        return pd.DataFrame(rows, columns=["grp", "var1", "var2", "vcov", "sdcor"])

    @property
    def singular(self) -> bool:
        """True if a random-effects term's covariance is (nearly) singular: a diagonal entry of
        its relative factor T below 1e-4, as lme4's ``isSingular`` (structured terms too: an sd
        at 0, a correlation at ±1, a Toeplitz matrix with a zero eigenvalue)."""
        layout = self._engine.factor.layout
        return bool(self._engine.theta.size) and is_singular(layout.templates(self._engine.theta))

    @property
    def singular_terms(self) -> list[str]:
        """The terms of :attr:`singular`, e.g. ``["Subject: ar1 covariance singular (sd 0:
        occfo1; correlation +1)"]`` (:func:`.singular.singular_terms`)."""
        if not self._engine.theta.size:
            return []
        layout, specs = self._engine.factor.layout, self._design.spec.terms
        T = layout.templates(self._engine.theta)
        return singular_terms(term_keys(specs), specs, layout.terms, T)

    # ----------------------------------------------------------- residual blocks
    def _subject_rows(self, subject: Any) -> tuple[np.ndarray, str]:
        bound, key = self._bound, str(subject)
        if bound.subject is not None:
            labels = [str(s) for s in bound.subject_labels]
            if key not in labels:
                raise DataError(
                    f"subject {subject!r} is not a level of {bound.subject_column!r} in the "
                    f"rows the model uses, so the fit has no residual block for it; pass one "
                    f"of its subjects (e.g. {', '.join(map(repr, labels[:3]))})"
                )
            return np.flatnonzero(bound.subject == labels.index(key)), str(bound.subject_column)
        if not self._design.terms:  # variance function only, no grouping: rows are independent
            raise MixedFitError(
                "the residual structure has no subject and the model no random effects: "
                "residual_cov needs a grouping (R is diagonal)"
            )
        spec, term = self._design.spec.terms[0], self._design.terms[0]
        levels = [str(level) for level in spec.levels]
        if key not in levels:
            raise DataError(
                f"subject {subject!r} is not a level of {spec.name!r} in the rows the model "
                f"uses; pass one of its levels (e.g. {', '.join(map(repr, levels[:3]))})"
            )
        return np.flatnonzero(term.refs == levels.index(key)), spec.name

    def _time_labels(self, rows: np.ndarray) -> tuple[np.ndarray, list[str], str]:
        """Rows sorted by time, their labels and the index name."""
        bound = self._bound
        if bound.time_level is not None and bound.time_labels:
            order = np.argsort(bound.time_level[rows], kind="stable")
            rows = rows[order]
            return rows, [bound.time_labels[i] for i in bound.time_level[rows]], "time"
        structure = self._structure
        corr = structure.correlation if isinstance(structure, Combined) else structure
        time = getattr(corr, "time", None) or getattr(corr, "coords", None)
        if isinstance(time, str) and time in self._frame.columns:
            values = self._frame[time].to_numpy()[rows]
            order = np.argsort(values, kind="stable")
            return rows[order], [str(v) for v in values[order]], time
        return rows, [str(i) for i in self._frame.index[rows]], "row"

    def residual_cov(self, subject: Any) -> pd.DataFrame:
        """The estimated residual covariance σ̂²Λ_R of one subject's rows: 0 at the σ → 0 limit
        of a structured term (σ̂ = 0; Λ_R's parameters are not identified there, and the
        subject's covariance is the term's, Z G Z').

        Parameters
        ----------
        subject : label
            A level of the structure's subject column (without one: of the first
            random-effects grouping factor).

        Returns
        -------
        pandas.DataFrame
            Indexed (both ways) by the subject's time labels (level labels, or the time
            values; data row labels for a structure without time), rows sorted by time.
        """
        rows, _ = self._subject_rows(subject)
        rows, labels, name = self._time_labels(rows)
        block = self._engine.residual_block(rows)
        return pd.DataFrame(
            block, index=pd.Index(labels, name=name), columns=pd.Index(labels, name=name)
        )

    # ----------------------------------------------------------- tests
    def coef_table(self, ddf: str = "satterthwaite", level: float = 0.95) -> pd.DataFrame:
        """Wald z-tests of the fixed effects from :attr:`vcov` (``ddf="none"`` only here; the
        fitted model returned by :func:`mixedfit.gls` / ``lmer(..., residual=)``,
        :class:`~mixedfit.ResidualMixedModel`, adds the default, Satterthwaite t tests).

        Returns
        -------
        pandas.DataFrame
            ``estimate, std_error, z, p, lower, upper`` (normal p-values and bounds).

        Raises
        ------
        NotImplementedError
            ``ddf`` Satterthwaite or Kenward-Roger (planned).
        """
        if not isinstance(ddf, str) or ddf.lower() != "none":
            not_implemented(f"coef_table(ddf={ddf!r}) (Satterthwaite / Kenward-Roger df)")
        if not 0 < level < 1:
            raise MixedFitError(f"level must be between 0 and 1, not {level!r}")
        est, se = self.fixef.to_numpy(), self.se.to_numpy()
        z = est / se
        q = stats.norm.ppf(0.5 + level / 2)
        return pd.DataFrame(
            {
                "estimate": est,
                "std_error": se,
                "z": z,
                "p": 2 * stats.norm.sf(np.abs(z)),
                "lower": est - q * se,
                "upper": est + q * se,
            },
            index=self.fixef.index,
        )


for _name in PLANNED:
    setattr(ResidualModelFit, _name, _planned(_name))
for _name in PLANNED_PROPERTIES:
    setattr(ResidualModelFit, _name, _planned_property(_name))
