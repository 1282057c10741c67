"""Report stage: lme4-style text for a fitted model, and the user-facing model class."""

from __future__ import annotations

import numpy as np
from tabulate import tabulate

from .model import MixedModelFit, sd_and_correlation

__all__ = ["LinearMixedModel", "format_column", "summary_text"]


def format_column(values: np.ndarray | list[float], digits: int = 4) -> list[str]:
    """Format numbers with one number of decimals giving ``digits`` significant digits to the
    smallest nonzero magnitude (at most 6 decimals); NaN prints empty."""
    arr = np.asarray(values, dtype=float)
    finite = np.abs(arr[np.isfinite(arr) & (arr != 0)])
    if finite.size == 0:
        decimals = 0
    else:
        decimals = int(np.clip(digits - 1 - np.floor(np.log10(finite.min())), 0, 6))
    return ["" if not np.isfinite(v) else f"{v:.{decimals}f}" for v in arr]


def _table(columns: dict[str, list[str]]) -> str:
    headers = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    align = ["left" if h in ("Groups", "Name", "") else "right" for h in headers]
    return tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True, colalign=align)


def _random_effects_table(fit: MixedModelFit) -> str:
    rows = []
    for name, S in fit.covariances.items():
        cols = list(S.index)
        sd, corr = sd_and_correlation(S.to_numpy())
        for a, col in enumerate(cols):
            cors = [f"{corr[a, b]:.2f}" for b in range(a)]
            rows.append([name if a == 0 else "", col, S.iat[a, a], sd[a], " ".join(cors)])
    rows.append(["Residual", "", fit.sigma**2, fit.sigma, ""])
    return _table(
        {
            "Groups": [r[0] for r in rows],
            "Name": [r[1] for r in rows],
            "Variance": format_column([r[2] for r in rows]),
            "Std.Dev.": format_column([r[3] for r in rows]),
            "Corr": [r[4] for r in rows],
        }
    )


def _fixed_effects_table(fit: MixedModelFit) -> str:
    est, se = fit.fixef.to_numpy(), fit.se.to_numpy()
    return _table(
        {
            "": list(fit.fixef.index),
            "Estimate": format_column(est),
            "Std. Error": format_column(se),
            "t value": format_column(est / se, digits=3),
        }
    )


def _messages(fit: MixedModelFit) -> list[str]:
    out = []
    if fit.singular:
        out.append("boundary (singular) fit: a variance component is (nearly) zero")
    if not fit.converged:
        out.append(f"optimizer did not converge: {fit.optimizer.message}")
    if fit.dropped_fixed:
        out.append(f"fixed effects dropped as aliased: {', '.join(fit.dropped_fixed)}")
    return out


def summary_text(fit: MixedModelFit) -> str:
    """lme4-style summary of a fit: criterion, residuals, random and fixed effects.

    Parameters
    ----------
    fit : MixedModelFit

    Returns
    -------
    str
    """
    method = "REML" if fit.reml else "maximum likelihood"
    crit = "REML criterion" if fit.reml else "deviance"
    q = np.quantile(fit.scaled_residuals, [0, 0.25, 0.5, 0.75, 1])
    quant = _table(
        dict(
            zip(["Min", "1Q", "Median", "3Q", "Max"], [[v] for v in format_column(q)], strict=True)
        )
    )
    groups = ";  ".join(f"{k}, {v}" for k, v in fit.ngroups.items())
    lines = [
        f"Linear mixed model fit by {method}",
        f"Formula: {fit.formula}",
        f"{crit} at convergence: {fit.objective:.4f}",
        f"AIC: {fit.aic:.4f}  BIC: {fit.bic:.4f}  logLik: {fit.loglik:.4f}",
        "",
        "Scaled residuals:",
        quant,
        "",
        "Random effects:",
        _random_effects_table(fit),
        f"Number of obs: {fit.nobs}, groups:  {groups}"
        + (f"  ({fit.n_dropped} rows with missing values dropped)" if fit.n_dropped else ""),
        "",
        "Fixed effects:",
        _fixed_effects_table(fit),
    ]
    messages = _messages(fit)
    if messages:
        lines += ["", *messages]
    return "\n".join(lines)


class LinearMixedModel(MixedModelFit):
    """A fitted linear mixed-effects model, returned by :func:`mixedfit.lmer`.

    ``print(fit)`` shows an lme4-style summary. See :class:`mixedfit.model.MixedModelFit` for the
    attributes (``objective``, ``theta``, ``fixef``, ``varcorr``, ``ranef``, ``predict`` ...).
    """

    def __repr__(self) -> str:
        return summary_text(self)
