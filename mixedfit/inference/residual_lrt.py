"""Likelihood-ratio tests involving fits with a residual covariance structure (nlme's
``anova.gls`` / ``anova.lme``): between structures, and between an ordinary fit and a residual fit.

Rules (the model's own, as nlme):

* **REML** criteria are compared only when every fit is REML and all have the *same fixed
  effects* (the same column space of X): the restricted likelihood depends on X. Otherwise
  (``refit=None``) REML fits are refitted by maximum likelihood first — a residual fit by the
  engine (:func:`ml_refit`, started at the REML estimates and at the default start, the lower
  criterion kept), an ordinary fit by its ``refit(reml=False)``. ``refit=True`` always compares
  ML fits; ``refit=False`` refuses what needs a refit.
* An ordinary fit's REML (or ML) criterion is on the same scale as a residual fit's: both are
  −2 log L of the same Gaussian model family with R = σ²I as the special case (lme4's REML
  log-likelihood equals nlme's; checked against R in tests/reference/cov_lrt).
* **Parameters** (``npar``): each fit's :attr:`dof`, nlme's count — p fixed effects + the
  random-effects parameters θ + the structure's parameters φ + σ² (an ordinary fit: φ empty).
  The chi-square df of a comparison is the difference of ``npar``; ``p`` is the upper tail of
  χ² with those df. Parameters on the boundary of the smaller model (ρ = 0 within AR(1) is
  interior; a variance 0 within a random effect is not) are not treated specially: the plain
  χ² reference, as nlme's ``anova`` (conservative at a boundary).
* **AIC, BIC**: −2 log L + 2 npar and −2 log L + npar log N with N = n − p for REML
  comparisons and n for ML (nlme's rule; an ordinary REML fit's own ``bic`` uses lme4's n).
* **Equal ``npar``**: a model with as many parameters as the one above it is not tested
  (``chisq``, ``p`` NaN, ``df`` 0), as nlme's ``anova`` (no ``L.Ratio``): its row compares by
  AIC/BIC only, and the next model is tested against it. ``test=False`` gives the information
  table alone (no ``chisq, df, p`` columns, no nesting check): AIC/BIC across any structures.
* **Nesting**: fits must use the same rows and response; the fixed effects of each model must be
  contained in those of the next with more parameters; random-effects terms are
  checked as between ordinary fits when the bigger model has no residual structure (a residual
  structure can hold a random effect's marginal covariance: a random intercept lies within
  CS or UN). That one residual structure is a special case of another (CS within CSH
  within UN, ρ = 0 within AR(1)) is not checked (nlme does not either): the χ² p-value is
  meaningful only for nested structures; AIC/BIC compare any.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..covariance import Combined, ResidualStructure
from ..exceptions import MixedFitError
from ..model import MixedModelFit, ResidualModelFit
from .lrt_table import LRTTable, check_names, label_rows

__all__ = ["compare_fits", "ml_refit", "residual_likelihood_ratio_test"]

Fit = MixedModelFit | ResidualModelFit


def compare_fits(
    models: Sequence[Any],
    refit: bool | None = None,
    names: Sequence[str] | None = None,
    test: bool = True,
) -> LRTTable:
    """Likelihood-ratio tests between fitted models (:func:`mixedfit.anova`): by
    :func:`residual_likelihood_ratio_test` when one has a residual structure, else by
    :func:`.lrt.likelihood_ratio_test` (lme4's ``anova``); rows labelled by ``names`` (one per
    model, in the order given) or ``M1``, ``M2``, ... (see :mod:`.lrt_table`). ``test=False``:
    the information table (AIC, BIC, log L) without tests."""
    if not isinstance(test, bool):
        raise MixedFitError(f"test must be True or False, not {test!r}")
    chosen = check_names(names, len(models))
    table = _compare(models, refit, test)
    order = sorted(range(len(models)), key=lambda i: models[i].dof)  # the tables' stable sort
    return label_rows(table, order, [str(x) for x in table.index], chosen)


def _compare(models: Sequence[Any], refit: bool | None, test: bool) -> pd.DataFrame:
    from .lrt import likelihood_ratio_test

    if len(models) >= 2 and any(isinstance(m, ResidualModelFit) for m in models):
        for i, m in enumerate(models):
            if not isinstance(m, MixedModelFit | ResidualModelFit):
                raise MixedFitError(
                    f"anova compares fitted models; argument {i + 1} is a "
                    f"{type(m).__name__} ({m!r:.40}), not a fit from mixedfit.lmer or mixedfit.gls"
                )
        return residual_likelihood_ratio_test(models, refit=refit, test=test)
    return likelihood_ratio_test(models, refit=refit, test=test)


def residual_likelihood_ratio_test(
    models: Sequence[Fit], refit: bool | None = None, test: bool = True
) -> pd.DataFrame:
    """Likelihood-ratio tests between nested fits, at least one with a residual structure.

    Parameters
    ----------
    models : sequence of fitted models
        Two or more fits (:func:`mixedfit.lmer`, :func:`mixedfit.gls`, ``lmer(...,
        residual=)``) to the same data and response.
    refit : bool, optional
        None: refit REML fits by ML only when needed (fixed effects differ, or REML and ML fits
        mixed); True: always compare ML fits; False: never refit.
    test : bool, default True
        False: the information table only (no ``chisq, df, p`` columns, no nesting check).

    Returns
    -------
    pandas.DataFrame
        As :func:`mixedfit.anova`: rows ordered by ``npar`` (index: the formula, with
        ``", residual=STRUCTURE"`` for residual fits, see :func:`label`), columns ``npar, aic,
        bic, loglik, deviance, chisq, df, p``; ``attrs["method"]`` ("REML" or "ML") and
        ``attrs["refitted"]``. Rows with the ``npar`` of the row above: ``chisq`` and ``p``
        NaN, ``df`` 0 (nlme prints no test).

    Raises
    ------
    MixedFitError
        Different rows or responses, models that are not nested (fixed effects), or REML
        fits that need a refit with ``refit=False``.
    """
    from .lrt import _check_same_data, decide_refit, information_only

    if refit is not None and not isinstance(refit, bool):
        raise MixedFitError(f"refit must be True, False or None, not {refit!r}")
    _check_same_data(models)  # type: ignore[arg-type]
    ordered = sorted(models, key=lambda m: m.dof)
    reml = [m.reml for m in ordered]
    refit = decide_refit(ordered, refit)
    for small, big in pairwise(ordered):
        if test:
            _check_nesting(small, big)
    fits = [_ml(m) if (refit and m.reml) else m for m in ordered]
    method = "REML" if all(f.reml for f in fits) else "ML"
    table = _table(fits, method) if test else information_only(_table(fits, method))
    table.attrs["method"] = method
    table.attrs["refitted"] = bool(refit and any(reml))
    return table


def ml_refit(fit: ResidualModelFit) -> ResidualModelFit:
    """The maximum-likelihood fit of a REML residual-structure fit's model (same data, design and
    structure), optimized from the REML estimates and from the default start; the lower
    criterion is kept.

    Returns
    -------
    ResidualModelFit
        Of the fit's own class, ``reml`` False.
    """
    from ..engine.residual import fit_residual
    from ..model import engine_terms

    design, engine = fit._design, fit._engine
    x_reml = np.concatenate([engine.theta, engine.phi])
    ml = fit_residual(
        engine_terms(design),
        design.X,
        design.y - design.offset,
        engine.model,
        reml=False,
        starts=[x_reml],
    )
    return type(fit)(design, ml, fit.formula, fit._structure, fit._bound, fit._frame)


def _check_nesting(small: Fit, big: Fit) -> None:
    """Fixed effects nested; random-effects terms nested unless the bigger model has a residual
    structure (which can hold a random effect's marginal covariance). Nothing to check for
    equal ``npar``: no test between them (nlme)."""
    from .lrt import _check_nested, _spans

    if small.dof == big.dof:
        return
    if isinstance(big, ResidualModelFit):
        if not _spans(big._design.X, small._design.X):
            raise MixedFitError(
                f"the fixed effects of {label(small)!r} are not contained in those of "
                f"{label(big)!r}: the models are not nested"
            )
        return
    _check_nested(small, big)  # type: ignore[arg-type]


def _ml(fit: Fit) -> Fit:
    if isinstance(fit, ResidualModelFit):
        return ml_refit(fit)
    return fit.refit(reml=False)


def label(fit: Fit) -> str:
    """The row label: the formula, and ``, residual=STRUCTURE`` for a residual fit, the structure
    written short (``AR1(occ, Subject)``, ``CompoundSymmetry(Subject, time=agef,
    heterogeneous=True)``, parts joined by ``&``)."""
    if isinstance(fit, ResidualModelFit):
        return f"{fit.formula}, residual={short_name(fit._structure)}"
    return fit.formula


def short_name(structure: ResidualStructure) -> str:
    """The structure with its required fields' values and the options that differ from their
    defaults."""
    if isinstance(structure, Combined):
        return " & ".join(short_name(p) for p in structure.parts)
    if not dataclasses.is_dataclass(structure):
        return repr(structure)
    args = []
    for f in dataclasses.fields(structure):
        value = getattr(structure, f.name)
        if f.default is dataclasses.MISSING:
            args.append(str(value))
        elif value != f.default:
            args.append(f"{f.name}={value}")
    return f"{type(structure).__name__}({', '.join(args)})"


def _table(fits: list[Fit], method: str) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for i, f in enumerate(fits):
        deviance = -2 * f.loglik
        n = f.nobs - (len(f.fixef) if method == "REML" else 0)
        row = {
            "npar": f.dof,
            "aic": deviance + 2 * f.dof,
            "bic": deviance + f.dof * math.log(n),
            "loglik": f.loglik,
            "deviance": deviance,
            "chisq": np.nan,
            "df": np.nan,
            "p": np.nan,
        }
        if i > 0:
            prev = fits[i - 1]
            df = f.dof - prev.dof
            row.update(df=df)
            if df > 0:  # equal npar: no test (nlme's L.Ratio NA)
                chisq = max(2 * (f.loglik - prev.loglik), 0.0)
                row.update(chisq=chisq, p=float(stats.chi2.sf(chisq, df)))
        rows.append(row)
    index = pd.Index([label(f) for f in fits], name="model")
    return pd.DataFrame(rows, index=index)
