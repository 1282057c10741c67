"""lme4/lmerTest-style text of a fitted model (summary and short print)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from tabulate import tabulate

from ..exceptions import MixedFitError
from ..model import MixedModelFit, sd_and_correlation

__all__ = [
    "DDF_LABELS",
    "LIMIT_NOTE",
    "LIMIT_RESIDUALS",
    "SIGNIF_LEGEND",
    "check_ddf",
    "format_column",
    "format_pvalue",
    "random_effects_frame",
    "short_text",
    "signif_stars",
    "summary_text",
]

DDF_LABELS = {
    "satterthwaite": "t-tests use Satterthwaite's method",
    "kenward-roger": "t-tests use the Kenward-Roger method",
    "none": "Wald t-tests without denominator degrees of freedom (normal p-values)",
}


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


def _r_digits(v: float, digits: int) -> tuple[int, int]:
    """Exponent and significant digits (trailing zeros dropped) of ``|v|`` rounded to
    ``digits`` significant digits, as R's ``formatReal`` sees them."""
    exponent = int(np.floor(np.log10(v)))
    mantissa = round(v / 10.0 ** (exponent - digits + 1))
    if mantissa >= 10**digits:  # rounded up to the next power of ten
        exponent, mantissa = exponent + 1, mantissa // 10
    sig = digits
    while sig > 1 and mantissa % 10 == 0:
        mantissa //= 10
        sig -= 1
    return exponent, sig


def r_format(values: np.ndarray, digits: int) -> list[str]:
    """R's ``format(x, digits=)`` of a numeric vector: one number of decimals, the most any
    finite element needs to show ``digits`` significant digits (trailing zeros dropped), or
    scientific notation when that is narrower (R's rule with ``scipen = 0``); NaN prints empty."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    left, right, sig_max, exp_max, exp_min = 1, 0, 1, 0, 0
    for v in finite:
        neg = int(v < 0)
        exponent, sig = _r_digits(abs(v), digits) if v != 0 else (0, 1)
        left = max(left, neg + max(exponent + 1, 1))
        right = max(right, sig - exponent - 1)
        sig_max, exp_max, exp_min = (
            max(sig_max, sig),
            max(exp_max, exponent),
            min(exp_min, exponent),
        )
    fixed_width = left + right + (right != 0)
    exp_digits = 2 if exp_max >= 100 or exp_min <= -100 else 1
    sci_width = int((finite < 0).any()) + (sig_max > 1) + sig_max - 1 + 4 + exp_digits
    if finite.size and fixed_width > sci_width:
        return ["" if not np.isfinite(v) else f"{v:.{sig_max - 1}e}" for v in values]
    return ["" if not np.isfinite(v) else f"{v:.{right}f}" for v in values]


def coefmat_columns(
    columns: dict[str, np.ndarray], test: str, digits: int = 4
) -> dict[str, list[str]]:
    """R's ``printCoefmat(digits = 4)``, as lme4 and lmerTest print the fixed effects: the
    coefficient columns (Estimate, Std. Error and, when present, df) rounded together to
    ``digits`` significant digits of the smallest nonzero magnitude among them, then formatted
    with one number of decimals; the test statistic ``test`` rounded to ``digits − 1``
    decimals, then formatted (sleepstudy: ``251.405  6.825  17.000  36.838``)."""
    names = [name for name in columns if name != test]
    block = np.column_stack([np.asarray(columns[name], dtype=float) for name in names])
    magnitudes = np.abs(block[np.isfinite(block) & (block != 0)])
    digmin = 1 + (int(np.floor(np.log10(magnitudes.min()))) if magnitudes.size else 0)
    block = np.round(block, max(1, digits - digmin))
    cells = np.array(r_format(block.ravel(), digits), dtype=object).reshape(block.shape)
    out = {name: list(cells[:, i]) for i, name in enumerate(names)}
    dig_tst = max(1, min(5, digits - 1))
    out[test] = r_format(np.round(np.asarray(columns[test], dtype=float), dig_tst), digits)
    return out


def format_pvalue(p: float) -> str:
    """R's ``format.pval`` style: ``< 2e-16`` below machine precision, 3 significant digits."""
    if not np.isfinite(p):
        return ""
    if p < 2.2e-16:
        return "< 2e-16"
    return f"{p:.3g}" if p >= 1e-4 else f"{p:.2e}"


LIMIT_NOTE = "σ → 0 (boundary)"
"""The summary's note on the residual row of a fit at the σ → 0 limit of a structured term."""
LIMIT_RESIDUALS = "(not shown: σ̂ = 0 at the σ → 0 limit of the structured term)"
"""The summary's text in place of the scaled residuals' quantiles at the σ → 0 limit."""
SIGNIF_LEGEND = "0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"


def signif_stars(p: float) -> str:
    """R's significance code of a p-value (``***`` below 0.001 ... ``.`` below 0.1)."""
    if not np.isfinite(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


def _table(columns: dict[str, list[str]]) -> str:
    headers = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    align = ["left" if h in ("Groups", "Name", "") else "right" for h in headers]
    return tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True, colalign=align)


def random_effects_frame(fit: MixedModelFit) -> pd.DataFrame:
    """The random-effects table of the summary: Groups, Name, Variance, Std.Dev., Corr (for a
    structured term the structure and its correlation, e.g. ``ar1, ρ = 0.880``, instead of
    the correlation matrix)."""
    rows = []
    structures = fit.structures
    for name, S in fit.covariances.items():
        cols = list(S.index)
        sd, corr = sd_and_correlation(S.to_numpy())
        for a, col in enumerate(cols):
            cors = " ".join(f"{corr[a, b]:.2f}" for b in range(a))
            if name in structures:
                cors = structures[name] if a == 0 else ""
            rows.append([name if a == 0 else "", col, S.iat[a, a], sd[a], cors])
    rows.append(["Residual", "", fit.sigma**2, fit.sigma, LIMIT_NOTE if fit._at_limit else ""])
    return pd.DataFrame(rows, columns=["Groups", "Name", "Variance", "Std.Dev.", "Corr"])


def _random_effects_text(fit: MixedModelFit) -> str:
    frame = random_effects_frame(fit)
    return _table(
        {
            "Groups": list(frame["Groups"]),
            "Name": list(frame["Name"]),
            "Variance": format_column(frame["Variance"].to_numpy()),
            "Std.Dev.": format_column(frame["Std.Dev."].to_numpy()),
            "Corr": list(frame["Corr"]),
        }
    )


def _coef_text(coef: pd.DataFrame) -> str:
    columns: dict[str, list[str]] = {"": list(coef.index)}
    columns.update(coefmat_columns(_coefmat_values(coef), "t value"))
    columns["Pr(>|t|)"] = [format_pvalue(p) for p in coef["p"]]
    columns[" "] = [signif_stars(p) for p in coef["p"]]
    return _table(columns)


def _coefmat_values(coef: pd.DataFrame) -> dict[str, np.ndarray]:
    """Estimate, Std. Error, (df when finite anywhere), t value of a coefficient table."""
    values = {"Estimate": coef["estimate"].to_numpy(), "Std. Error": coef["std_error"].to_numpy()}
    if np.isfinite(coef["df"]).any():
        values["df"] = coef["df"].to_numpy()
    values["t value"] = coef["t"].to_numpy()
    return values


def abbreviate(names: Sequence[str], minlength: int) -> list[str]:
    """R's ``abbreviate(names, minlength)`` (as lme4 heads the correlation of fixed effects:
    ``(Intercept)`` → ``(Intr)``): lower-case vowels, then lower-case letters, then any letters
    dropped from the right until ``minlength`` remain; a clash lengthens the clashing ones."""
    out = [_abbreviate(n, minlength) for n in names]
    length = minlength
    while len(set(out)) < len(out) and length < max(map(len, names), default=0):
        length += 1
        seen = [o for o in out if out.count(o) > 1]
        out = [_abbreviate(n, length) if o in seen else o for n, o in zip(names, out, strict=True)]
    return out


def _abbreviate(name: str, minlength: int) -> str:
    """R's C ``stripchars`` (``use.classes = TRUE``) on one name."""
    b = list(name.lstrip())
    if len(b) < minlength:
        return "".join(b)
    nspace, trailing = 0, True
    for i in range(len(b) - 1, 0, -1):
        if b[i].isspace():
            if trailing:
                del b[i:]
            else:
                nspace += 1
        else:
            trailing = False
        if len(b) - nspace <= minlength:
            return _drop_spaces(b, minlength)

    def first(i: int) -> bool:
        return b[i - 1].isspace()

    def last(i: int) -> bool:
        return not b[i - 1].isspace() and (i + 1 == len(b) or b[i + 1].isspace())

    rules = [
        lambda i: b[i] in "aeiou" and last(i),
        lambda i: b[i] in "aeiou" and not first(i),
        lambda i: b[i].islower() and last(i),
        lambda i: b[i].islower() and not first(i),
        lambda i: not first(i) and not b[i].isspace(),
    ]
    for rule in rules:
        for i in range(len(b) - 1, 0, -1):
            if i < len(b) and rule(i):
                del b[i]
            if len(b) - nspace <= minlength:
                return _drop_spaces(b, minlength)
    return _drop_spaces(b, minlength)


def _drop_spaces(b: list[str], minlength: int) -> str:
    if len(b) > minlength:
        b = [b[0], *(c for c in b[1:] if not c.isspace())]
    return "".join(b)


def _correlation_text(fit: MixedModelFit) -> str:
    names = list(fit.fixef.index)
    if len(names) < 2:
        return ""
    _, corr = sd_and_correlation(fit.vcov.to_numpy())
    short = abbreviate(names, 6)
    columns: dict[str, list[str]] = {"": names[1:]}
    for j in range(len(names) - 1):
        columns[short[j]] = [f"{corr[i, j]:.3f}" if j < i else "" for i in range(1, len(names))]
    return "Correlation of Fixed Effects:\n" + _table(columns)


def messages(fit: MixedModelFit) -> list[str]:
    """Singular-fit, convergence and dropped-column notes, as lme4 prints them."""
    out = []
    if fit.singular:
        terms = "; ".join(fit.singular_terms)
        out.append(f"boundary (singular) fit: a variance component is (nearly) zero ({terms})")
    if not fit.converged:
        out.append(f"optimizer did not converge: {fit.optimizer.message}")
    if fit.dropped_fixed:
        out.append(f"fixed effects dropped as aliased: {', '.join(fit.dropped_fixed)}")
    return out


def _header(fit: MixedModelFit) -> list[str]:
    method = "REML" if fit.reml else "maximum likelihood"
    crit = "REML criterion" if fit.reml else "deviance"
    return [
        f"Linear mixed model fit by {method}",
        f"Formula: {fit.formula}",
        f"{crit} at convergence: {fit.objective:.4f}",
    ]


def _groups_line(fit: MixedModelFit) -> str:
    groups = ";  ".join(f"{k}, {v}" for k, v in fit.ngroups.items())
    dropped = f"  ({fit.n_dropped} rows with missing values dropped)" if fit.n_dropped else ""
    return f"Number of obs: {fit.nobs}, groups:  {groups}{dropped}"


def summary_text(fit: MixedModelFit, coef: pd.DataFrame, ddf: str) -> str:
    """The full lme4/lmerTest-style summary.

    Parameters
    ----------
    fit : MixedModelFit
    coef : pandas.DataFrame
        Coefficient table (estimate, std_error, df, t, p) for the chosen ``ddf``.
    ddf : str
        "satterthwaite", "kenward-roger" or "none".
    """
    quantiles = LIMIT_RESIDUALS if fit._at_limit else None
    try:
        q = np.quantile(fit.scaled_residuals, [0, 0.25, 0.5, 0.75, 1])
    except MixedFitError:  # a fit from cross products holds no rows
        quantiles = "(not available: the fit holds no rows)"
    if quantiles is None:
        quantiles = _table(
            dict(
                zip(
                    ["Min", "1Q", "Median", "3Q", "Max"],
                    [[v] for v in format_column(q)],
                    strict=True,
                )
            )
        )
    head = _header(fit)
    head[0] += f". {DDF_LABELS[ddf]}"
    lines = [
        *head,
        f"AIC: {fit.aic:.4f}  BIC: {fit.bic:.4f}  logLik: {fit.loglik:.4f}",
        "",
        "Scaled residuals:",
        quantiles,
        "",
        "Random effects:",
        _random_effects_text(fit),
        _groups_line(fit),
        "",
        "Fixed effects:",
        _coef_text(coef),
        "---",
        f"Signif. codes:  {SIGNIF_LEGEND}",
    ]
    corr = _correlation_text(fit)
    if corr:
        lines += ["", corr]
    notes = messages(fit)
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def short_text(fit: MixedModelFit) -> str:
    """The short print of a fit (lme4's ``print``): criterion, random effects, estimates."""
    sds = random_effects_frame(fit)
    re_text = _table(
        {
            "Groups": list(sds["Groups"]),
            "Name": list(sds["Name"]),
            "Std.Dev.": format_column(sds["Std.Dev."].to_numpy()),
            "Corr": list(sds["Corr"]),
        }
    )
    fixef = _table(
        {
            name: [v]
            for name, v in zip(fit.fixef.index, format_column(fit.fixef.to_numpy()), strict=True)
        }
    )
    lines = [
        *_header(fit),
        "Random effects:",
        re_text,
        _groups_line(fit),
        "Fixed Effects:",
        fixef,
        *messages(fit),
    ]
    return "\n".join(lines)


def check_ddf(ddf: str) -> str:
    """The canonical name of a ``ddf`` argument (a key of :data:`DDF_LABELS`; "kr" and
    "kenward" accepted).

    Raises
    ------
    MixedFitError
        Not a string, or not a known method.
    """
    if not isinstance(ddf, str):
        raise MixedFitError(
            f"ddf must be a string such as 'satterthwaite' or 'kenward-roger', not {ddf!r}"
        )
    key = ddf.lower().replace("_", "-").replace(" ", "-")
    if key in ("kr", "kenward"):
        key = "kenward-roger"
    if key not in DDF_LABELS:
        raise MixedFitError(f"ddf must be one of {sorted(DDF_LABELS)}, not {ddf!r}")
    return key
