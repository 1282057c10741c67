"""Text summary of a fit with a residual covariance structure (:class:`~mixedfit.model.
ResidualModelFit`): criteria, random effects, the "Residual covariance" section (as nlme prints
"Correlation Structure: AR(1) ... Phi") and the fixed-effects tests (Wald z, or t tests with
Satterthwaite / Kenward–Roger df); as text and as HTML (:class:`ResidualSummary`)."""

from __future__ import annotations

import html

import pandas as pd

from ..model import ResidualModelFit
from .html import coefficients_html, correlation_html, html_table, quantiles_html, section, wrap
from .text import LIMIT_NOTE, LIMIT_RESIDUALS, coefmat_columns, format_column, format_pvalue

__all__ = ["ResidualSummary", "coefficient_frame", "residual_summary_html", "residual_summary_text"]


def _criteria(fit: ResidualModelFit) -> str:
    method = "REML" if fit.reml else "maximum likelihood"
    head = "GLS" if not len(fit.theta) and not _has_random(fit) else "Linear mixed model"
    return (
        f"{head} fit by {method} with a residual covariance structure\n"
        f"Formula: {fit.formula}\n"
        f"     AIC      BIC   logLik  (parameters: {fit.dof})\n"
        f"{fit.aic:8.2f} {fit.bic:8.2f} {fit.loglik:8.2f}\n"
    )


def _has_random(fit: ResidualModelFit) -> bool:
    return bool((fit.varcorr["grp"] != "Residual").any())


def _random_text(fit: ResidualModelFit) -> str:
    vc = fit.varcorr
    vc = vc[(vc["grp"] != "Residual") & (vc["var2"] == "")]
    if vc.empty:
        return ""
    lines = ["Random effects:", f" {'Groups':<10} {'Name':<16} {'Std.Dev.':>10}"]
    for _, row in vc.iterrows():
        lines.append(f" {row['grp']:<10} {row['var1']:<16} {row['sdcor']:10.4f}")
    return "\n".join(lines) + "\n"


def _residual_text(fit: ResidualModelFit) -> str:
    residual = fit.residual
    lines = ["Residual covariance:", f" Structure: {residual.name}"]
    if len(residual.params):
        names = [str(k) for k in residual.params.index]
        width = max(len(n) for n in names)
        values = format_column(residual.params.to_numpy(), digits=6)
        values = [v or _NOT_IDENTIFIED for v in values]  # NaN: a vanished by= group's φ
        lines += [f"  {n:<{width}}  {v}" for n, v in zip(names, values, strict=True)]
    lines.append(f" Residual standard error: {_sigma_text(fit)}")
    return "\n".join(lines) + "\n"


_NOT_IDENTIFIED = "NaN (not identified: the residual variance of its by= group vanished)"
"""A NaN structure parameter in the summary: the correlation parameter of a ``by=`` group whose
residual variance vanished (:mod:`mixedfit.engine.residual.by_vanished`)."""


def _sigma_text(fit: ResidualModelFit) -> str:
    """σ̂, with the note of a fit at the σ → 0 limit (σ̂ = 0: the residual covariance vanished)."""
    return f"{fit.sigma:.6g}" + (f"  ({LIMIT_NOTE})" if fit._at_limit else "")


_COEF_TITLES = {
    "none": "Fixed effects (Wald z, model-based SEs):",
    "satterthwaite": "Fixed effects (t tests, Satterthwaite df):",
    "kenward-roger": "Fixed effects (t tests, Kenward-Roger df and adjusted SEs):",
}


def coefficient_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The coefficient table formatted for printing: Estimate, Std. Error, (df, t value,
    Pr(>|t|)) or (z value, Pr(>|z|)), one string column each, indexed by coefficient."""
    stat = "z" if "z" in table.columns else "t"
    values = {"Estimate": table["estimate"].to_numpy(), "Std. Error": table["std_error"].to_numpy()}
    if stat == "t":
        values["df"] = table["df"].to_numpy()
    values[f"{stat} value"] = table[stat].to_numpy()
    cols = coefmat_columns(values, f"{stat} value")
    cols[f"Pr(>|{stat}|)"] = [format_pvalue(p) for p in table["p"]]
    return pd.DataFrame(cols, index=[str(k) for k in table.index])


def _coef_text(table: pd.DataFrame, ddf: str) -> str:
    frame = coefficient_frame(table)
    names = list(frame.index)
    width = max((len(n) for n in names), default=0)
    widths = {k: max(len(k), *(len(x) for x in frame[k])) for k in frame.columns}
    lines = [
        _COEF_TITLES[ddf],
        " " * width + "".join(f"  {k:>{widths[k]}}" for k in frame.columns),
    ]
    for i, name in enumerate(names):
        lines.append(
            f"{name:<{width}}"
            + "".join(f"  {frame[k].iloc[i]:>{widths[k]}}" for k in frame.columns)
        )
    return "\n".join(lines) + "\n"


def _nobs_line(fit: ResidualModelFit) -> str:
    return f"Number of obs: {fit.nobs}" + (f" ({fit.n_dropped} dropped)" if fit.n_dropped else "")


def residual_summary_text(
    fit: ResidualModelFit, ddf: str = "none", table: pd.DataFrame | None = None
) -> str:
    """The summary of ``fit`` as text.

    Parameters
    ----------
    fit : ResidualModelFit
    ddf : {"none", "satterthwaite", "kenward-roger"}
        The tests of the fixed-effects table (its title).
    table : pandas.DataFrame, optional
        The coefficient table for ``ddf`` (default: the Wald table, ``ddf="none"``).
    """
    if table is None:
        table, ddf = fit.coef_table(ddf="none"), "none"
    parts = [_criteria(fit), _random_text(fit), _residual_text(fit), _coef_text(table, ddf)]
    parts.append(_nobs_line(fit))
    return "\n".join(p for p in parts if p)


def residual_summary_html(fit: ResidualModelFit, ddf: str, table: pd.DataFrame) -> str:
    """The summary as HTML, laid out as the summary of a fit without residual structure
    (:func:`~mixedfit.report.summary.summary_html`): criteria, normalized residuals, random
    effects, the residual covariance structure with its parameters, the fixed-effects tests
    with significance codes, the correlation of the fixed effects."""
    method = "REML" if fit.reml else "maximum likelihood"
    head = "GLS" if not len(fit.theta) and not _has_random(fit) else "Linear mixed model"
    out = [
        f"<p><strong>{head} fit by {method} with a residual covariance structure</strong><br>",
        f"Formula: <code>{html.escape(fit.formula)}</code><br>",
        f"AIC {fit.aic:.2f}; BIC {fit.bic:.2f}; logLik {fit.loglik:.2f} "
        f"(parameters: {fit.dof})</p>",
        (
            section("Normalized residuals") + f"<p>{html.escape(LIMIT_RESIDUALS)}</p>"
            if fit._at_limit
            else quantiles_html(fit.residuals_of("normalized"), "Normalized residuals")
        ),
    ]
    vc = fit.varcorr
    vc = vc[(vc["grp"] != "Residual") & (vc["var2"] == "")]
    if not vc.empty:
        re = pd.DataFrame(
            {
                "Groups": list(vc["grp"]),
                "Name": list(vc["var1"]),
                "Std.Dev.": format_column(vc["sdcor"].to_numpy()),
            }
        )
        out.append(section("Random effects") + html_table(re))
    residual = fit.residual
    out.append(
        "<p><strong>Residual covariance</strong><br>"
        f"Structure: <code>{html.escape(residual.name)}</code></p>"
    )
    if len(residual.params):
        params = pd.DataFrame(
            {
                "Parameter": [str(k) for k in residual.params.index],
                "Estimate": [
                    v or _NOT_IDENTIFIED
                    for v in format_column(residual.params.to_numpy(), digits=6)
                ],
            }
        )
        out.append(html_table(params))
    out.append(f"<p>Residual standard error: {html.escape(_sigma_text(fit))}</p>")
    out.append(f"<p>{html.escape(_nobs_line(fit))}</p>")
    out.append(section(_COEF_TITLES[ddf].rstrip(":")))
    out.append(coefficients_html(coefficient_frame(table), table["p"].to_numpy()))
    out.append(correlation_html(fit.vcov))
    return wrap("".join(out))


class ResidualSummary(str):
    """The summary of a residual-structure fit: the text (a ``str``, so it prints and compares
    as text) with the tables it shows, rendered as HTML in notebooks (``_repr_html_``).

    Attributes
    ----------
    fit : ResidualModelFit
    ddf : str
        "satterthwaite", "kenward-roger" or "none".
    coefficients : pandas.DataFrame
        The fixed-effects table (``fit.coef_table(ddf=ddf)``).
    """

    fit: ResidualModelFit
    ddf: str
    coefficients: pd.DataFrame

    def __new__(
        cls, fit: ResidualModelFit, ddf: str, coefficients: pd.DataFrame
    ) -> ResidualSummary:
        obj = super().__new__(cls, residual_summary_text(fit, ddf, coefficients))
        obj.fit, obj.ddf, obj.coefficients = fit, ddf, coefficients
        return obj

    @property
    def text(self) -> str:
        """The summary as plain text."""
        return str.__str__(self)

    def _repr_html_(self) -> str:
        return residual_summary_html(self.fit, self.ddf, self.coefficients)
