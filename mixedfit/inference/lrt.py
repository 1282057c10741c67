"""Likelihood-ratio tests between nested fitted models (lme4's ``anova(m0, m1, ...)``)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import MixedFitError
from ..model import MixedModelFit

__all__ = ["likelihood_ratio_test"]


def likelihood_ratio_test(
    models: Sequence[MixedModelFit], refit: bool | None = None, test: bool = True
) -> pd.DataFrame:
    """Compare nested models by likelihood-ratio tests, simplest first.

    Parameters
    ----------
    models : sequence of MixedModelFit
        Two or more fits of nested models to the same data and response.
    refit : bool, optional
        Refit REML fits by maximum likelihood. By default (None) REML fits are refitted only
        when their fixed effects differ (REML criteria of different fixed effects are not
        comparable); ``True`` always refits (lme4's default); ``False`` never does.
    test : bool, default True
        False: the information table only (no ``chisq, df, p`` columns, no nesting check).

    Returns
    -------
    pandas.DataFrame
        One row per model (index: the formulas), ordered by number of parameters, columns
        ``npar, aic, bic, loglik, deviance, chisq, df, p``; ``chisq``, ``df``, ``p`` compare
        each model with the one above it. A model with as many parameters as the one above is
        not tested (lme4: ``chisq`` = max(0, 2 Δ log L), ``df`` 0, ``p`` NaN).
        ``attrs["method"]`` is "ML" or "REML" and ``attrs["refitted"]`` tells whether REML fits
        were refitted by ML.

    Raises
    ------
    MixedFitError
        Fewer than two models, models on different data or response, mixed REML/ML fits
        that cannot be compared, or models that are not nested.
    """
    for i, m in enumerate(models):
        if not isinstance(m, MixedModelFit):
            raise MixedFitError(
                f"anova compares fitted models; argument {i + 1} is a {type(m).__name__} "
                f"({m!r:.40}), not a fit from mixedfit.lmer"
            )
    if refit is not None and not isinstance(refit, bool):
        raise MixedFitError(f"refit must be True, False or None, not {refit!r}")
    if len(models) < 2:
        raise MixedFitError("anova needs at least two fitted models to compare")
    _check_same_data(models)
    ordered = sorted(models, key=lambda m: m.dof)
    refit = decide_refit(ordered, refit)
    for small, big in pairwise(ordered):
        if test:
            _check_nested(small, big)
    fits = [m.refit(reml=False) if (refit and m.reml) else m for m in ordered]
    table = _table(fits) if test else information_only(_table(fits))
    table.attrs["method"] = "REML" if all(f.reml for f in fits) else "ML"
    table.attrs["refitted"] = bool(refit and any(m.reml for m in ordered))
    return table


def decide_refit(ordered: Sequence[Any], refit: bool | None) -> bool:
    """Whether REML fits are refitted by ML before comparing (the model's rule: REML only when
    every fit is REML with the same fixed effects; ``refit=None`` decides by that rule).

    Raises
    ------
    MixedFitError
        REML and ML fits, or REML fits with different fixed effects, with ``refit=False``.
    """
    reml = [m.reml for m in ordered]
    same_fixed = all(_same_fixed(ordered[0], m) for m in ordered[1:])
    if refit is None:
        refit = any(reml) and not (all(reml) and same_fixed)
    if not refit and any(reml) and not all(reml):
        raise MixedFitError("cannot compare REML and ML fits without refitting (refit=True)")
    if not refit and all(reml) and not same_fixed:
        raise MixedFitError(
            "REML criteria of models with different fixed effects are not comparable (the "
            "rule of lme4 and nlme); use refit=True or refit=None (maximum likelihood)"
        )
    return bool(refit)


def _table(fits: list[MixedModelFit]) -> pd.DataFrame:
    rows = []
    for i, f in enumerate(fits):
        row = {
            "npar": f.dof,
            "aic": f.aic,
            "bic": f.bic,
            "loglik": f.loglik,
            "deviance": -2 * f.loglik,
            "chisq": np.nan,
            "df": np.nan,
            "p": np.nan,
        }
        if i > 0:
            prev = fits[i - 1]
            chisq = max(2 * (f.loglik - prev.loglik), 0.0)
            df = f.dof - prev.dof
            row.update(chisq=chisq, df=df, p=float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan)
        rows.append(row)
    index = pd.Index([f.formula for f in fits], name="model")
    return pd.DataFrame(rows, index=index)


def information_only(table: pd.DataFrame) -> pd.DataFrame:
    """The table without its test columns (``anova(..., test=False)``: AIC, BIC, log L)."""
    return table.drop(columns=["chisq", "df", "p"])


def _check_same_data(models: Sequence[MixedModelFit]) -> None:
    first = models[0]._design
    for m in models[1:]:
        d = m._design
        if len(d.y) != len(first.y) or not np.array_equal(d.rows, first.rows):
            raise MixedFitError(
                "models were fitted to different rows (check missing values and data); "
                "likelihood-ratio tests need the same observations"
            )
        if not np.allclose(d.y, first.y, rtol=1e-12, atol=0):
            raise MixedFitError("models have different responses; they cannot be compared")


def _same_fixed(a: MixedModelFit, b: MixedModelFit) -> bool:
    Xa, Xb = a._design.X, b._design.X
    return Xa.shape == Xb.shape and _spans(Xa, Xb) and _spans(Xb, Xa)


def _spans(big: np.ndarray, small: np.ndarray) -> bool:
    """True if every column of ``small`` lies in the column space of ``big``."""
    if small.shape[1] == 0:
        return True
    if big.shape[1] == 0:
        return False
    coef, *_ = np.linalg.lstsq(big, small, rcond=None)
    resid = small - big @ coef
    return bool(np.all(np.linalg.norm(resid, axis=0) <= 1e-8 * np.linalg.norm(small, axis=0)))


def _check_nested(small: MixedModelFit, big: MixedModelFit) -> None:
    """Fixed and random effects of ``small`` within ``big``; nothing to check when both have
    the same number of parameters (no test: the row gives AIC/BIC only, as lme4)."""
    if small.dof == big.dof:
        return
    if not _spans(big._design.X, small._design.X):
        raise MixedFitError(
            f"the fixed effects of {small.formula!r} are not contained in those of "
            f"{big.formula!r}: the models are not nested"
        )
    for spec, term in zip(small._design.spec.terms, small._design.terms, strict=True):
        same_factor = [
            other.Z
            for other_spec, other in zip(big._design.spec.terms, big._design.terms, strict=True)
            if other_spec.coding.columns == spec.coding.columns
            and other_spec.coding.levels == spec.coding.levels
        ]
        if not same_factor or not _spans(np.column_stack(same_factor), term.Z):
            raise MixedFitError(
                f"the random-effects term {spec.term.source!r} of {small.formula!r} has no "
                f"counterpart in {big.formula!r}: the models are not nested"
            )
