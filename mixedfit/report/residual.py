"""Text summary of a fit with a residual covariance structure (:class:`~mixedfit.model.
ResidualModelFit`): criteria, random effects, the "Residual covariance" section (as nlme prints
"Correlation Structure: AR(1) ... Phi") and Wald z-tests of the fixed effects."""

from __future__ import annotations

from ..model import ResidualModelFit
from .text import format_column, format_pvalue

__all__ = ["residual_summary_text"]


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
        lines += [f"  {n:<{width}}  {v}" for n, v in zip(names, values, strict=True)]
    lines.append(f" Residual standard error: {fit.sigma:.6g}")
    return "\n".join(lines) + "\n"


def _coef_text(fit: ResidualModelFit) -> str:
    table = fit.coef_table(ddf="none")
    names = [str(k) for k in table.index]
    width = max(len(n) for n in names)
    cols = {
        "Estimate": format_column(table["estimate"].to_numpy()),
        "Std. Error": format_column(table["std_error"].to_numpy()),
        "z value": format_column(table["z"].to_numpy()),
        "Pr(>|z|)": [format_pvalue(p) for p in table["p"]],
    }
    widths = {k: max(len(k), *(len(x) for x in v)) for k, v in cols.items()}
    lines = [
        "Fixed effects (Wald z, model-based SEs):",
        " " * width + "".join(f"  {k:>{widths[k]}}" for k in cols),
    ]
    for i, name in enumerate(names):
        lines.append(
            f"{name:<{width}}" + "".join(f"  {v[i]:>{widths[k]}}" for k, v in cols.items())
        )
    return "\n".join(lines) + "\n"


def residual_summary_text(fit: ResidualModelFit) -> str:
    """The summary of ``fit`` as text."""
    parts = [_criteria(fit), _random_text(fit), _residual_text(fit), _coef_text(fit)]
    parts.append(
        f"Number of obs: {fit.nobs}" + (f" ({fit.n_dropped} dropped)" if fit.n_dropped else "")
    )
    return "\n".join(p for p in parts if p)
