"""Nakagawa's R² and the intraclass correlation of a linear mixed model, as R's
performance 0.10 (``r2_nakagawa``, ``icc``) with insight 0.19 (``get_variance``).

Public: :func:`variance_components`, :func:`r2_nakagawa`, :func:`icc`.

The three variances (insight's names):

- fixed: the sample variance (n − 1) of the fitted fixed part Xβ̂ over the rows used;
- random: for each random-effects term with covariance Σ, the mean over the rows of z_i'Σz_i,
  where z_i holds the row's values of those of the term's columns that are also columns of the
  fixed-effects matrix (insight takes them from X by name; mixedfit compares values, so either
  naming scheme works): an intercept is always counted; a random slope on a variable absent
  from the fixed part, or the indicator of a reference level (``(0 + Machine | Worker)``'s
  ``MachineA``), is left out, as insight does. Without random slopes this is the sum of the
  intercept variances. A grouping factor with several terms (``(Days || Subject)``) counts only its
  first term, as insight (it looks VarCorr up by the factor's name, so lme4's ``Subject.1`` is
  never read);
- residual: σ̂².

R² marginal = fixed / total, conditional = (fixed + random) / total; ICC adjusted =
random / (random + residual), conditional = random / total, total = fixed + random + residual.

When a random-effects term reads a variable that the fixed part does not (``(Days | Subject)``
in ``Reaction ~ 1 + ...``, or the structured terms ``ar1(0 + Daysf | Subject)``,
``cs(0 + Daysf | Subject)`` with ``Daysf`` not a fixed effect), insight warns "Random slopes not
present as fixed effects" and leaves those columns out of the random variance: a structured
term over the levels of a factor then counts nothing (ICC 0, conditional R² = marginal, as
performance gives on the glmmTMB fit). mixedfit gives the same numbers and warns
(:class:`~mixedfit.exceptions.MixedFitWarning`, naming the variable and the term); putting the
variable in the fixed part (``Reaction ~ Daysf + ar1(0 + Daysf | Subject)``) counts the term.
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ..exceptions import MixedFitError, MixedFitWarning

__all__ = ["icc", "r2_nakagawa", "refuse_residual", "variance_components"]


def _in_fixed(z: np.ndarray, X: np.ndarray) -> bool:
    """Whether column z of a random-effects term is a column of X or the intercept."""
    return bool(np.all(z == 1.0)) or any(np.array_equal(z, x) for x in X.T)


def _random_variance(fit: Any) -> float:
    X = fit._design.X
    n = X.shape[0]
    total = 0.0
    seen: set[str] = set()
    terms = zip(fit._design.spec.terms, fit._design.terms, fit.covariances.values(), strict=True)
    for spec, term, cov in terms:
        if spec.name in seen:  # insight reads VarCorr by group name: "Subject.1" is not counted
            continue
        seen.add(spec.name)
        keep = [j for j in range(term.Z.shape[1]) if _in_fixed(term.Z[:, j], X)]
        if not keep:
            continue
        Z = term.Z[:, keep]
        S = cov.to_numpy()[np.ix_(keep, keep)]
        total += float(np.einsum("ij,jk,ik->", Z, S, Z)) / n
    return total


def _warn_slopes_not_fixed(fit: Any) -> None:
    """insight's "Random slopes not present as fixed effects": a variable read by a
    random-effects term (other than its grouping factors) that the fixed part does not read."""
    spec = fit._design.spec
    fixed = set(spec.fixed_variables)
    for term in spec.terms:
        missing = [v for v in term.variables if v not in term.coding.columns and v not in fixed]
        if missing:
            names = ", ".join(repr(v) for v in missing)
            warnings.warn(
                f"r2()/icc(): the random-effects term {term.term.source!r} reads {names}, which "
                "the fixed effects do not: as performance (insight: 'Random slopes not present "
                "as fixed effects'), the term's columns that are not fixed-effect columns are "
                "left out of the random variance (a term over a factor's levels counts nothing: "
                f"ICC 0). Add {names} to the fixed effects to count them",
                MixedFitWarning,
                stacklevel=5,  # the caller of fit.icc() / fit.r2()
            )
            return


def refuse_residual(what: str) -> NoReturn:
    """The NotImplementedError of ``r2()``/``icc()`` on a residual-structure fit."""
    raise NotImplementedError(
        f"{what} is not implemented for fits with a residual covariance structure (residual=): "
        "performance's variance decomposition assumes independent residuals; fit without "
        "residual= to compute it"
    )


def variance_components(fit: Any) -> pd.Series:
    """insight's ``get_variance``: ``fixed``, ``random`` and ``residual`` variances.

    Parameters
    ----------
    fit : MixedModelFit
        Without prior weights (performance ignores them; mixedfit refuses).

    Raises
    ------
    MixedFitError
        A fit with prior weights or a residual covariance structure.

    Warns
    -----
    MixedFitWarning
        A random-effects term reads a variable the fixed part does not (see the module
        docstring).
    """
    if getattr(fit._design, "weights", None) is not None:
        raise MixedFitError("r2()/icc() are not defined for fits with prior weights")
    if not hasattr(fit, "covariances") or not hasattr(fit._engine, "solution"):
        raise MixedFitError("r2()/icc() need an lmer fit without a residual covariance structure")
    _warn_slopes_not_fixed(fit)
    eta = fit._design.X @ fit._engine.solution.beta
    fixed = float(np.var(eta, ddof=1)) if len(eta) > 1 else 0.0
    return pd.Series(
        {"fixed": fixed, "random": _random_variance(fit), "residual": fit.sigma**2},
        name="variance",
    )


def r2_nakagawa(fit: Any) -> pd.Series:
    """Nakagawa's marginal and conditional R² (performance's ``r2_nakagawa``).

    Returns
    -------
    pandas.Series
        ``marginal``, ``conditional``.
    """
    v = variance_components(fit)
    total = v["fixed"] + v["random"] + v["residual"]
    return pd.Series(
        {"marginal": v["fixed"] / total, "conditional": (v["fixed"] + v["random"]) / total},
        name="r2",
    )


def icc(fit: Any) -> pd.Series:
    """Adjusted and conditional intraclass correlation (performance's ``icc``).

    Returns
    -------
    pandas.Series
        ``adjusted`` = random / (random + residual), ``conditional`` = random / total.
    """
    v = variance_components(fit)
    total = v["fixed"] + v["random"] + v["residual"]
    return pd.Series(
        {
            "adjusted": v["random"] / (v["random"] + v["residual"]),
            "conditional": v["random"] / total,
        },
        name="icc",
    )
