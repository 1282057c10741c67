"""The user-facing fitted model: results plus summary, tests, intervals and simulation; saved with
``fit.save`` and loaded back with :func:`load_fit`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .io.persist import load_fitted, save_fit
from .model import MixedModelFit
from .report.summary import Summary
from .report.text import check_ddf as _check_ddf
from .report.text import short_text
from .report.tidy import TidyMethods

if TYPE_CHECKING:
    from .residual_api import ResidualMixedModel

__all__ = ["LinearMixedModel", "load_fit"]


class LinearMixedModel(MixedModelFit, TidyMethods):
    """A fitted linear mixed-effects model, returned by :func:`mixedfit.lmer`.

    ``print(fit)`` shows a short lme4-style print; ``fit.summary()`` the full summary with
    p-values. Estimates and diagnostics are attributes (see
    :class:`mixedfit.model.MixedModelFit`): ``objective``, ``theta``, ``fixef``, ``vcov``,
    ``varcorr``, ``ranef``, ``predict`` ...
    """

    def __repr__(self) -> str:
        return short_text(self)

    @property
    def residual(self) -> None:
        """None: the fit has no residual covariance structure (``residual=`` fits return a
        :class:`~mixedfit.residual_api.ResidualMixedModel`, whose ``residual`` is the structure
        with its estimates)."""
        return None

    def summary(self, ddf: str = "satterthwaite") -> Summary:
        """lme4/lmerTest-style summary; renders as HTML in notebooks.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger", "none"}
            Denominator degrees of freedom of the coefficient t-tests.
        """
        ddf = _check_ddf(ddf)
        return Summary(self, ddf, self.coef_table(ddf=ddf))

    def coef_table(self, ddf: str = "satterthwaite", level: float = 0.95) -> pd.DataFrame:
        """Fixed effects with estimate, std_error, df, t, p and confidence bounds.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger", "none"}
        level : float
            Confidence level of the ``lower``/``upper`` columns (t quantiles with ``df``).
        """
        from .inference.ddf import coef_table

        return coef_table(self, ddf=_check_ddf(ddf), level=level)

    def anova(
        self,
        *models: MixedModelFit | str,
        ddf: str = "satterthwaite",
        refit: bool | None = None,
        names: Sequence[str] | None = None,
        test: bool = True,
    ) -> pd.DataFrame:
        """Type III F tests of each fixed-effect term (lmerTest's ``anova(fit)``); with other
        fits, likelihood-ratio tests as R's ``anova(fit, fit2)`` (see :func:`mixedfit.anova`).

        Parameters
        ----------
        *models : fitted models
            Other fits to compare by likelihood-ratio tests (``refit`` as in
            :func:`mixedfit.anova`). A single string is taken as ``ddf``.
        ddf : {"satterthwaite", "kenward-roger", "none"}
            Denominator df of the type III tests.
        names : sequence of str, optional
            Row labels of the likelihood-ratio table, this fit first (see
            :func:`mixedfit.anova`).
        test : bool, default True
            With other fits, False gives only the information table (nlme's ``test = FALSE``;
            see :func:`mixedfit.anova`).

        Returns
        -------
        pandas.DataFrame
            Columns term, numdf, dendf, F, p (type III); or the likelihood-ratio table.
        """
        from .inference.ddf import anova_type3
        from .inference.lrt_table import check_test_alone
        from .inference.residual_lrt import compare_fits

        if len(models) == 1 and isinstance(models[0], str):  # anova("kenward-roger")
            ddf, models = models[0], ()
        if models:
            return compare_fits((self, *models), refit=refit, names=names, test=test)
        check_test_alone(test)
        return anova_type3(self, ddf=_check_ddf(ddf))

    def test(self, L: np.ndarray | Sequence[str] | str, ddf: str = "satterthwaite") -> pd.DataFrame:
        """F test of a linear hypothesis Lβ = c.

        Parameters
        ----------
        L : array of shape (q, p), or contrast strings
            Rows of the contrast matrix, or strings such as ``"Days = 0"`` or
            ``"2*b - c = 1"`` naming fixed effects.
        ddf : {"satterthwaite", "kenward-roger", "none"}
        """
        from .inference.ddf import linear_test

        hypothesis = [L] if isinstance(L, str) else L
        return linear_test(self, hypothesis, ddf=_check_ddf(ddf))

    def confint(
        self,
        method: str = "wald",
        level: float = 0.95,
        nsim: int = 500,
        seed: int | None = None,
        *,
        parm: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Confidence intervals (columns lower, upper), rows as lme4's ``confint``.

        Parameters
        ----------
        method : {"wald", "profile", "boot"}
            Wald intervals for the fixed effects; profile-likelihood intervals for SDs,
            correlations, σ and fixed effects; parametric-bootstrap percentile intervals.
        level : float
        nsim, seed : int
            Bootstrap replicates and seed (``method="boot"``).
        parm : str or list of str, optional
            Parameters to report, by name (lme4's ``parm``; default all); a profile is
            computed only for these.
        """
        from .inference.intervals import confint

        return confint(self, method=method, level=level, nsim=nsim, seed=seed, parm=parm)

    def simulate(self, nsim: int = 1, seed: int | None = None) -> np.ndarray:
        """Responses simulated from the fitted model, shape (nobs, nsim)."""
        from .inference.bootstrap import simulate

        return simulate(self, nsim, seed=seed)

    def bootstrap(self, nsim: int = 100, seed: int | None = None) -> pd.DataFrame:
        """Parametric bootstrap: refits to ``nsim`` simulated responses, one row each."""
        from .inference.bootstrap import bootstrap

        return bootstrap(self, nsim, seed=seed)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fit as versioned JSON (gzip if the name ends in ``.gz``); no pickle.

        The file holds the model frame, options and estimates: :func:`mixedfit.load_fit`
        rebuilds a fit that prints, predicts and compares like this one, after checking the
        formula with safe mode and every stored estimate against the stored data (see
        :mod:`mixedfit.io.persist`, "What loading checks and what it trusts").
        """
        save_fit(self, path)

    def predict(  # type: ignore[override]
        self,
        newdata: Any = None,
        random: bool = True,
        allow_new_levels: bool = True,
        offset: np.ndarray | None = None,
        interval: str | None = None,
        level: float = 0.95,
    ) -> np.ndarray | pd.DataFrame:
        """Predict the response, optionally with population-level intervals.

        Without ``interval`` exactly :meth:`mixedfit.model.MixedModelFit.predict` (an array).
        ``newdata`` may be pandas, polars, pyarrow or any interchange-protocol frame.

        Parameters
        ----------
        interval : {"confidence", "prediction"}, optional
            Return a frame ``fit, lower, upper`` (index of ``newdata``) of population-level
            predictions x'β̂ (+ offset); ``random`` and ``allow_new_levels`` do not apply.
            ``"confidence"``: x'β̂ ± z √(x'Vβ x) with Vβ = :attr:`vcov`. ``"prediction"``: a new
            observation of new groups, x'β̂ ± z √(x'Vβ x + Σ_j z_j'G_j z_j + σ̂²), z_j the row's
            values of term j's columns and G_j its covariance (:attr:`covariances`); z the
            normal quantile of ``level``; θ and σ are taken as known (see
            :mod:`mixedfit.inference.prediction`).
        level : float, default 0.95
        """
        if interval is None:
            return super().predict(newdata, random, allow_new_levels, offset)
        from .inference.prediction import predict_interval

        return predict_interval(self, newdata, interval, level, offset)

    def _repr_html_(self) -> str:
        """The HTML summary (``fit.summary()``): a fit shown on its own in a notebook cell."""
        return self.summary()._repr_html_()

    def emmeans(
        self,
        specs: str | Sequence[str],
        at: Mapping[str, Any] | None = None,
        by: str | Sequence[str] | None = None,
        ddf: str = "kenward-roger",
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Estimated marginal means, as R's ``emmeans(fit, specs, by = by, at = at)``.

        Other factors are averaged with equal weights, covariates held at their means (or at
        ``at``). Columns ``emmean, se, df, lower, upper``, indexed by the levels. See
        :func:`mixedfit.inference.emmeans.emmeans`.
        """
        from .inference.emmeans import emmeans

        return emmeans(self, specs, at=at, by=by, ddf=ddf, level=level)

    def contrasts(
        self,
        specs: str | Sequence[str],
        method: Any = "pairwise",
        adjust: str | None = None,
        by: str | Sequence[str] | None = None,
        at: Mapping[str, Any] | None = None,
        ddf: str = "kenward-roger",
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Contrasts of estimated marginal means, as emmeans' ``contrast(emm, method)``:
        columns ``estimate, se, df, t, p, lower, upper`` indexed by emmeans' labels
        (``"A - B"``). See :func:`mixedfit.inference.emmeans.contrasts`.
        """
        from .inference.emmeans import contrasts

        return contrasts(
            self, specs, method=method, adjust=adjust, by=by, at=at, ddf=ddf, level=level
        )

    def icc(self) -> pd.Series:
        """Intraclass correlation ``adjusted`` and ``conditional``, as performance's ``icc``
        (see :mod:`mixedfit.inference.r2`)."""
        from .inference.r2 import icc

        return icc(self)

    def r2(self) -> pd.Series:
        """Nakagawa's R² ``marginal`` and ``conditional``, as performance's ``r2_nakagawa``
        (see :mod:`mixedfit.inference.r2`)."""
        from .inference.r2 import r2_nakagawa

        return r2_nakagawa(self)


def load_fit(
    path: str | os.PathLike[str],
    context: Mapping[str, Any] | None = None,
    *,
    trust: bool = False,
) -> LinearMixedModel | ResidualMixedModel:
    """Load a fit saved by :meth:`LinearMixedModel.save` (or
    :func:`mixedfit.io.persist.save_fit`), rebuilt at its estimates without refitting; a fit
    with a residual covariance structure (:meth:`ResidualMixedModel.save`) loads as a
    :class:`~mixedfit.ResidualMixedModel` (see :mod:`mixedfit.io.residual_file`).

    Loading evaluates nothing from the file unless ``trust=True``: the stored formula must pass
    the check of safe mode (``lmer(..., safe=True)``) before it is evaluated on the stored data,
    and every stored estimate must be reproduced from the stored data (see
    :mod:`mixedfit.io.persist`: "What loading checks and what it trusts").

    Parameters
    ----------
    path : str or path-like
        A file written by ``fit.save`` (plain or gzip-compressed JSON).
    context : mapping, optional
        The formula context the model was fitted with (``lmer(..., context=...)``); required
        when the fit used one, since Python objects are not saved. Such a formula calls
        functions outside safe mode, so it also needs ``trust=True``.
    trust : bool, default False
        Only for a file you trust (you saved it yourself, or it comes from someone you trust):
        evaluate its formula even if it is outside safe mode (a formula can run any Python
        code), and accept a file of fit format version 1, whose random effects cannot be
        checked. Every check that can be made is still made.

    Returns
    -------
    LinearMixedModel or ResidualMixedModel
        Identical estimates, summary, predictions and model comparisons as the saved fit.

    Warns
    -----
    ConvergenceWarning, BoundaryWarning, SingularFitWarning, UnboundedLikelihoodWarning
        The warnings the fit gave when it was made, again (an unconverged optimizer, a failed
        derivative check, an estimate at a bound or limit, ...), from the saved record and the
        estimates recomputed from the file's data; and a ConvergenceWarning where a record that
        claims convergence fails the derivative check recomputed at load (residual structures);
        a MixedFitWarning where the fit gave one (a term not identified beside the structure).

    Raises
    ------
    MixedFitError
        Not a mixedfit fit file, a file from a newer mixedfit (a higher format version), a
        file larger than :data:`~mixedfit.io.persist.MAX_FILE_BYTES` (after decompression) or
        nested too deeply, a corrupt file (naming the missing or malformed field), a formula
        outside safe mode (without ``trust=True``), missing context names, or stored estimates
        that the stored data do not reproduce (the file was altered, or the libraries evaluate
        it differently).
    FileNotFoundError
        If ``path`` does not exist.
    """
    from .io.residual_file import ResidualParts
    from .model import engine_terms
    from .model.fit_warnings import warn_lmm
    from .model.residual_checks import warn_fit
    from .residual_api import ResidualMixedModel

    loaded = load_fitted(path, context, trust=trust)
    if isinstance(loaded, ResidualParts):
        p = loaded
        fit = ResidualMixedModel(p.design, p.engine, p.formula, p.structure, p.bound, p.frame)
        # the fit's warnings again, recomputed from the file's data and its saved record
        warn_fit(fit, engine_terms(p.design), stacklevel=2, loaded=True)
        return fit
    plain = LinearMixedModel(*loaded)
    warn_lmm(plain, stacklevel=2)  # the fit's warnings again (its saved record and check)
    return plain
