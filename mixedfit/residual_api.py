"""Fitting with a residual covariance structure (issue 12): :func:`gls`, the path of
``lmer(..., residual=STRUCT)``, and :class:`ResidualMixedModel`, the fitted model returned.

formula (random-effects terms optional) → design → the structure bound to the rows the model
uses → :func:`mixedfit.engine.residual.fit_residual` → :class:`~mixedfit.model.ResidualModelFit`.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .covariance import ResidualStructure
from .covariance.reference import reference_groups
from .design import build_design
from .design.dataframes import as_pandas
from .design.validation import check_response_scale
from .engine.residual import check_nested, fit_residual
from .engine.threads import single_threaded
from .exceptions import MixedFitError, MixedFitWarning
from .formula import parse_formula
from .formula.safety import check_safe_formula
from .inference.residual_workflow import ResidualWorkflow
from .model import ResidualModelFit, engine_terms
from .model.residual_checks import warn_fit
from .report.residual import ResidualSummary, residual_summary_text
from .report.text import check_ddf as _check_ddf
from .report.tidy import TidyMethods

__all__ = ["ResidualMixedModel", "fit_with_residual", "gls"]


class ResidualMixedModel(ResidualModelFit, TidyMethods, ResidualWorkflow):
    """A fitted model with a residual covariance structure, returned by :func:`gls` and by
    ``lmer(..., residual=...)``; ``print(fit)`` and ``fit.summary()`` show the text summary
    with its "Residual covariance" section. See :class:`mixedfit.model.ResidualModelFit`."""

    def __repr__(self) -> str:
        return residual_summary_text(self)

    def summary(self, ddf: str = "satterthwaite") -> ResidualSummary:
        """The summary with its "Residual covariance" section and t tests of the fixed effects;
        a ``str`` (prints as text) that renders as HTML in notebooks.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger", "none"}
            Denominator df of the t tests (as :meth:`coef_table`); "none": Wald z-tests (the
            text of ``repr(fit)``).

        Raises
        ------
        MixedFitError
            Unknown ``ddf``; Kenward-Roger for an ML fit.

        Warns
        -----
        MixedFitWarning
            The df are not available (the Hessian of the log-likelihood in the variance
            parameters is not positive definite: a fit on the boundary): the summary shows
            Wald z-tests instead.
        """
        method = _check_ddf(ddf)
        if method == "kenward-roger" and not self.reml:
            return ResidualSummary(self, method, self.coef_table(ddf=method))  # raises
        try:
            return ResidualSummary(self, method, self.coef_table(ddf=method))
        except MixedFitError as error:
            warnings.warn(
                f"{error}. The summary shows Wald z-tests instead", MixedFitWarning, stacklevel=2
            )
        return ResidualSummary(self, "none", self.coef_table(ddf="none"))

    def coef_table(self, ddf: str = "satterthwaite", level: float = 0.95) -> pd.DataFrame:
        """Fixed-effects tests: t tests with Satterthwaite (the default) or Kenward-Roger df, or
        Wald z-tests.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger", "none"}
            "satterthwaite": columns ``estimate, std_error, df, t, p, lower, upper`` as
            :meth:`mixedfit.LinearMixedModel.coef_table` (df by mmrm's / lmerTest's recipe over
            all variance parameters: σ², θ and the structure's, see
            :mod:`mixedfit.inference.residual_ddf`). "kenward-roger": the same columns with
            mmrm's Kenward-Roger adjusted standard errors and df (REML fits only, see
            :mod:`mixedfit.inference.residual_kr`). "none": Wald z-tests, columns
            ``estimate, std_error, z, p, lower, upper``.
        level : float
            Confidence level of ``lower``/``upper``.
        """
        method = _check_ddf(ddf)
        if method == "none":
            return super().coef_table(ddf="none", level=level)
        from .inference.residual_ddf import residual_coef_table

        return residual_coef_table(self, ddf=method, level=level)

    def test(self, L: np.ndarray | Sequence[str] | str, ddf: str = "satterthwaite") -> pd.DataFrame:
        """F test of a linear hypothesis Lβ = c (as :meth:`mixedfit.LinearMixedModel.test`).

        Parameters
        ----------
        L : array of shape (q, p), or contrast strings
            Rows of the contrast matrix, or strings such as ``"SEXFemale = 0"`` or
            ``"2*b - c = 1"`` naming fixed effects.
        ddf : {"satterthwaite", "kenward-roger", "none"}
            The F statistic is the Wald F (for Kenward-Roger: scaled, on the adjusted Var(β̂));
            "none": dendf = inf. See :mod:`mixedfit.inference.residual_tests`.

        Returns
        -------
        pandas.DataFrame
            One row; columns ``numdf, dendf, F, p``.
        """
        from .inference.residual_tests import residual_linear_test

        hypothesis = [L] if isinstance(L, str) else L
        return residual_linear_test(self, hypothesis, ddf=_check_ddf(ddf))

    def anova(
        self,
        *models: Any,
        ddf: str = "satterthwaite",
        refit: bool | None = None,
        names: Sequence[str] | None = None,
        test: bool = True,
    ) -> pd.DataFrame:
        """Type III F tests of each fixed-effect term (lmerTest's hypotheses); with other fits,
        likelihood-ratio tests (see :func:`mixedfit.anova`).

        Parameters
        ----------
        *models : fitted models
            Other fits to compare with this one by likelihood-ratio tests, as
            ``mf.anova(self, *models)``. A single string is taken as ``ddf``.
        ddf : {"satterthwaite", "kenward-roger", "none"}
            Denominator df of the type III tests.
        names : sequence of str, optional
            Row labels of the likelihood-ratio table, this fit first (see
            :func:`mixedfit.anova`).
        refit : bool, optional
            As :func:`mixedfit.anova`.
        test : bool, default True
            With other fits, False gives only the information table (nlme's ``test = FALSE``;
            see :func:`mixedfit.anova`).

        Returns
        -------
        pandas.DataFrame
            Columns ``term, numdf, dendf, F, p`` (type III); or the likelihood-ratio table.
        """
        if len(models) == 1 and isinstance(models[0], str):
            ddf, models = models[0], ()
        if models:  # likelihood-ratio tests: mf.anova's
            from .inference.residual_lrt import compare_fits

            return compare_fits((self, *models), refit=refit, names=names, test=test)
        from .inference.lrt_table import check_test_alone
        from .inference.residual_tests import residual_anova

        check_test_alone(test)
        return residual_anova(self, ddf=_check_ddf(ddf))

    def confint(
        self,
        method: str = "wald",
        level: float = 0.95,
        nsim: int = 500,
        seed: int | None = None,
        *,
        parm: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Confidence intervals (columns lower, upper): of the fixed effects (Wald, profile) or
        of all parameters (bootstrap).

        Parameters
        ----------
        method : {"wald", "profile", "boot"}
            Wald: β̂ ± z·SE (model-based SE, normal quantile, as the ordinary ``confint``);
            profile: profile-likelihood intervals of every parameter (SDs and correlations,
            ``sigma``, the structure's parameters on their reported scale, fixed effects) from
            the ML deviance with the parameter fixed and all others re-optimized (a REML fit is
            refitted by ML first, as lme4; see
            :func:`mixedfit.inference.residual_profile.residual_profile_all`).
            boot: parametric-bootstrap percentile intervals (boot's ``perc``) of every column
            of :meth:`bootstrap` (SDs and correlations, ``sigma``, the structure's parameters,
            fixed effects).
        level : float
        nsim, seed : int
            Replicates and seed of the bootstrap (``method="boot"``).
        parm : str or list of str, optional
            Parameters to report (default: all; the fixed effects for Wald).
        """
        from .inference.residual_profile import residual_profile_all
        from .inference.residual_tests import residual_boot_intervals, residual_wald_intervals

        key = str(method).lower()
        if key == "wald":
            return residual_wald_intervals(self, level, parm)
        if key == "profile":
            return residual_profile_all(self, level, parm)
        if key == "boot":
            return residual_boot_intervals(self, level, parm, nsim=nsim, seed=seed)
        raise MixedFitError(f"method must be 'wald', 'profile' or 'boot', not {method!r}")

    def profile(self, level: float = 0.99, points: int = 11) -> pd.DataFrame:
        """Profile ζ traces of every parameter over its ``level`` profile interval (long
        format: ``parameter, value, zeta``; names as :meth:`bootstrap`'s columns), as
        :func:`mixedfit.inference.profile.profile_zeta` for ordinary fits."""
        from .inference.residual_profile import residual_profile_zeta

        return residual_profile_zeta(self, level=level, points=points)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fit as versioned JSON (gzip if the name ends in ``.gz``); no pickle.

        The file holds the model frame (with the structure's columns), the structure spec as
        plain JSON fields and the estimates: :func:`mixedfit.load_fit` rebuilds a
        :class:`ResidualMixedModel` with the same estimates after checking the formula with
        safe mode, the structure against a fixed list of classes and every stored estimate
        against the stored data (see :mod:`mixedfit.io.residual_file`).
        """
        from .io.persist import save_fit

        save_fit(self, path)

    def simulate(self, nsim: int = 1, seed: int | None = None) -> np.ndarray:
        """Responses simulated from the fitted model, shape (nobs, nsim): y* = Xβ̂ + Zu* + ε*
        with new u* ~ N(0, Ĝ) and ε* ~ N(0, σ̂²Λ_R(φ̂)) per subject (lme4's ``use.u = FALSE``;
        the offset included). The same seed gives the same responses."""
        from .model.residual_rows import simulate

        return simulate(self, nsim, seed=seed)

    def bootstrap(self, nsim: int = 100, seed: int | None = None) -> pd.DataFrame:
        """Parametric bootstrap: refits to ``nsim`` simulated responses, one row of parameters
        each (random-effect SDs/correlations, ``sigma``, the structure's parameters, fixed
        effects; see :func:`mixedfit.inference.residual_bootstrap.bootstrap`)."""
        from .inference.residual_bootstrap import bootstrap

        return bootstrap(self, nsim, seed=seed)

    def _repr_html_(self) -> str:
        """The HTML of the summary that ``repr(fit)`` prints (Wald z-tests): a fit shown on its
        own in a notebook cell."""
        return ResidualSummary(self, "none", self.coef_table(ddf="none"))._repr_html_()


def _structure_columns(residual: ResidualStructure) -> list[str]:
    """The columns a structure reads (time, subject, by, covariate, coordinates)."""
    parts = getattr(residual, "parts", None) or (residual,)
    out: list[str] = []
    for part in parts:
        for name in ("time", "subject", "by", "covariate", "coords"):
            value = getattr(part, name, None)
            values = [value] if isinstance(value, str) else list(value or [])
            out += [v for v in values if isinstance(v, str) and v not in out]
    return out


def _without_missing_structure_values(
    data: pd.DataFrame, residual: ResidualStructure
) -> np.ndarray | None:
    """Positions of the rows of ``data`` with every value the structure reads (R's na.omit, as
    for the formula's variables), or None if none is missing."""
    if not isinstance(data, pd.DataFrame):
        return None
    columns = [c for c in _structure_columns(residual) if c in data.columns]
    if not columns:
        return None
    missing = np.zeros(len(data), dtype=bool)
    for column in columns:  # per column: no sub-frame copy (Arrow string columns are slow)
        missing |= np.asarray(data[column].isna(), dtype=bool)
    return np.flatnonzero(~missing) if missing.any() else None


@single_threaded()  # design included: OpenBLAS threads on n > 10⁴ vectors stall on busy cores
def fit_with_residual(
    formula: str,
    data: pd.DataFrame,
    residual: ResidualStructure,
    *,
    reml: bool = True,
    weights: str | Sequence[float] | np.ndarray | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
    start: Sequence[float] | np.ndarray | None = None,
    max_evals: int = 100_000,
    optimizer: str = "auto",
    safe: bool = False,
    verbose: bool = False,
    names: str = "r",
) -> ResidualMixedModel:
    """The path of ``lmer(..., residual=residual)``; arguments as :func:`mixedfit.lmer`.

    Raises
    ------
    MixedFitError
        ``residual`` is not a structure; ``weights``, ``start``, ``optimizer`` other than
        "auto"/"bobyqa" or ``verbose`` given (not supported with a residual structure yet).
    NotImplementedError
        Never for the supported arguments.
    """
    if not isinstance(residual, ResidualStructure):
        raise MixedFitError(
            f"residual must be a residual structure such as mf.AR1('time', 'subject'), "
            f"not {residual!r}"
        )
    for name, value in (("weights", weights), ("start", start)):
        if value is not None:
            raise MixedFitError(
                f"{name}= is not supported with residual= yet (use a variance function "
                "such as mf.VarIdent for unequal variances)"
            )
    if optimizer not in ("auto", "bobyqa") or verbose:
        raise MixedFitError("residual= fits use BOBYQA without progress reports (verbose) yet")
    data = as_pandas(data)  # polars, pyarrow, interchange-protocol frames
    parsed = parse_formula(formula, allow_no_random=True)
    if safe:
        columns = data.columns if isinstance(data, pd.DataFrame) else None
        parsed = check_safe_formula(parsed, columns)
    kept = _without_missing_structure_values(data, residual)
    used = data if kept is None else data.iloc[kept]
    design = build_design(parsed, used, offset=offset, context=context, names=names)
    if kept is not None:  # rows positioned in the caller's data, as without residual=
        design = dataclasses.replace(
            design, rows=kept[design.rows], n_dropped=design.n_dropped + len(data) - len(kept)
        )
    check_response_scale(design.spec.formula.response, design.y - design.offset)
    frame = data.iloc[design.rows]
    bound = residual.bind(frame.reset_index(drop=True), reference_groups(design))
    terms = engine_terms(design)
    if bound.subject is not None:
        groups = [t.name for t in design.spec.terms]
        check_nested(terms, bound.subject, groups, str(bound.subject_column), bound.subject_labels)
    engine = fit_residual(
        terms,
        design.X,
        design.y - design.offset,
        bound.model,
        reml=reml,
        max_evals=max_evals,
        gradient=optimizer == "auto",  # "bobyqa": never the gradient path
        names=[t.name for t in design.spec.terms],
    )
    fit = ResidualMixedModel(design, engine, formula, residual, bound, frame)
    warn_fit(fit, terms, stacklevel=3)
    return fit


def gls(
    formula: str,
    data: pd.DataFrame,
    residual: ResidualStructure,
    reml: bool = True,
    **options: Any,
) -> ResidualMixedModel:
    """Fit a model with a residual covariance structure (GLS / MMRM; random effects optional).

    The same call as ``mixedfit.lmer(formula, data, reml=reml, residual=residual)``.

    Parameters
    ----------
    formula : str
        The fixed part, and random-effects terms ``(expr | group)`` if any
        (``"FEV1 ~ ARMCD * AVISIT"``).
    data : pandas.DataFrame
        Rows with a missing value in a variable of the formula are dropped; the structure still
        uses each remaining row's time, so a missed visit is a gap.
    residual : ResidualStructure
        ``mf.AR1("visit", "id")``, ``mf.Unstructured(...)``, ``mf.CompoundSymmetry(...) &
        mf.VarIdent("sex")`` ...
    reml : bool, default True
    **options
        ``offset``, ``context``, ``max_evals``, ``safe``, ``names`` as :func:`mixedfit.lmer`.

    Returns
    -------
    ResidualMixedModel
    """
    if not isinstance(reml, bool | np.bool_):
        raise MixedFitError(f"reml must be True or False, not {reml!r}")
    return fit_with_residual(formula, data, residual, reml=bool(reml), **options)
