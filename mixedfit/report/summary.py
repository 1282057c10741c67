"""The summary object of a fit: lme4-style text, tidy tables, and HTML for notebooks."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from ..model import MixedModelFit
from .html import (
    coefficients_html,
    correlation_html,
    html_table,
    notes_html,
    quantiles_html,
    section,
    wrap,
)
from .text import (
    DDF_LABELS,
    LIMIT_RESIDUALS,
    _coefmat_values,
    coefmat_columns,
    format_column,
    format_pvalue,
    messages,
    random_effects_frame,
    summary_text,
)

__all__ = ["Summary"]


@dataclass(frozen=True)
class Summary:
    """Summary of a fitted model (returned by ``fit.summary()``).

    ``print(summary)`` shows lme4/lmerTest's summary; in a notebook it renders as HTML.

    Attributes
    ----------
    fit : MixedModelFit
    ddf : str
        Denominator degrees of freedom of the t-tests: "satterthwaite", "kenward-roger" or
        "none".
    coefficients : pandas.DataFrame
        Estimate, std_error, df, t, p and confidence bounds per fixed effect.
    """

    fit: MixedModelFit
    ddf: str
    coefficients: pd.DataFrame
    _text: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The summary as plain text."""
        if not self._text:
            self._text.append(summary_text(self.fit, self.coefficients, self.ddf))
        return self._text[0]

    @property
    def random_effects(self) -> pd.DataFrame:
        """Groups, names, variances, SDs and correlations of the random effects."""
        return random_effects_frame(self.fit)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return summary_html(self)


def _fixed_frame(coef: pd.DataFrame) -> pd.DataFrame:
    cols: dict[str, list[str]] = coefmat_columns(_coefmat_values(coef), "t value")
    cols["Pr(>|t|)"] = [format_pvalue(p) for p in coef["p"]]
    return pd.DataFrame(cols, index=[str(k) for k in coef.index])


def summary_html(summary: Summary) -> str:
    """HTML rendering of a summary with every part of the text: header and criteria, scaled
    residuals, random effects, numbers of observations and groups, fixed effects with
    significance codes, correlation of the fixed effects, notes."""
    fit, coef = summary.fit, summary.coefficients
    method = "REML" if fit.reml else "maximum likelihood"
    crit = "REML criterion" if fit.reml else "Deviance"
    re = summary.random_effects
    re_shown = re.assign(
        Variance=format_column(re["Variance"].to_numpy()),
        **{"Std.Dev.": format_column(re["Std.Dev."].to_numpy())},
    )
    groups = "; ".join(f"{html.escape(str(k))}: {v}" for k, v in fit.ngroups.items())
    dropped = f" ({fit.n_dropped} rows with missing values dropped)" if fit.n_dropped else ""
    return wrap(
        f"<p><strong>Linear mixed model fit by {method}</strong> "
        f"({html.escape(DDF_LABELS[summary.ddf])})<br>"
        f"Formula: <code>{html.escape(fit.formula)}</code><br>"
        f"{crit} at convergence: {fit.objective:.4f}; AIC {fit.aic:.2f}; BIC {fit.bic:.2f}; "
        f"logLik {fit.loglik:.2f}</p>"
        + (
            section("Scaled residuals") + f"<p>{html.escape(LIMIT_RESIDUALS)}</p>"
            if fit._at_limit
            else quantiles_html(fit.scaled_residuals)
        )
        + section("Random effects")
        + html_table(re_shown)
        + f"<p>Number of obs: {fit.nobs}; groups: {groups}{dropped}</p>"
        + section("Fixed effects")
        + coefficients_html(_fixed_frame(coef), coef["p"].to_numpy())
        + correlation_html(fit.vcov)
        + notes_html(messages(fit))
    )
