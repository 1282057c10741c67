"""HTML pieces shared by the summaries of :mod:`.summary` and :mod:`.residual`: tables, the
scaled-residual quantiles, the fixed-effects table with significance stars and R's legend, the
correlation of the fixed effects, and a standalone page around a summary (``mixedfit fit
--output html``).

Every name and value is escaped (``html.escape`` / ``DataFrame.to_html(escape=True)``).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..model import sd_and_correlation
from .text import SIGNIF_LEGEND, format_column, signif_stars

__all__ = [
    "coefficients_html",
    "correlation_html",
    "html_table",
    "notes_html",
    "quantiles_html",
    "section",
    "standalone_page",
    "wrap",
]

_STYLE = (
    ".mixedfit-summary table.mixedfit-table{border-collapse:collapse;margin:0.2em 0 0.6em 0}"
    ".mixedfit-summary table.mixedfit-table td,.mixedfit-summary table.mixedfit-table th"
    "{padding:0.1em 0.6em;text-align:right;font-family:monospace}"
    ".mixedfit-summary .mixedfit-legend{font-size:0.85em;color:#555}"
)


def html_table(frame: pd.DataFrame, index: bool = False) -> str:
    """A frame of strings as an escaped HTML table (class ``mixedfit-table``)."""
    return frame.to_html(index=index, escape=True, border=0, classes="mixedfit-table")


def section(title: str) -> str:
    """A bold section title, as the text summary's "Random effects:" lines."""
    return f"<p><strong>{html.escape(title)}</strong></p>"


def quantiles_html(values: np.ndarray, title: str = "Scaled residuals") -> str:
    """Min, 1Q, Median, 3Q, Max of ``values`` (the text summary's "Scaled residuals:")."""
    q = np.quantile(np.asarray(values, dtype=float), [0, 0.25, 0.5, 0.75, 1])
    frame = pd.DataFrame([format_column(q)], columns=["Min", "1Q", "Median", "3Q", "Max"])
    return section(title) + html_table(frame)


def coefficients_html(frame: pd.DataFrame, pvalues: np.ndarray | pd.Series) -> str:
    """A formatted coefficient table (strings, indexed by coefficient) with a significance-star
    column, and R's legend of the codes below it."""
    shown = frame.assign(**{" ": [signif_stars(float(p)) for p in np.asarray(pvalues)]})
    legend = f'<p class="mixedfit-legend">Signif. codes: {html.escape(SIGNIF_LEGEND)}</p>'
    return html_table(shown, index=True) + legend


def correlation_html(vcov: pd.DataFrame) -> str:
    """Lower triangle of the correlation matrix of the fixed effects, as lme4 prints it ("" if
    there is a single coefficient)."""
    names = [str(n) for n in vcov.index]
    if len(names) < 2:
        return ""
    _, corr = sd_and_correlation(vcov.to_numpy())
    frame = pd.DataFrame(
        {
            names[j]: [f"{corr[i, j]:.3f}" if j < i else "" for i in range(1, len(names))]
            for j in range(len(names) - 1)
        },
        index=names[1:],
    )
    return section("Correlation of fixed effects") + html_table(frame, index=True)


def notes_html(notes: list[str]) -> str:
    """Singular-fit, convergence and dropped-column notes, one paragraph each."""
    return "".join(f"<p><em>{html.escape(m)}</em></p>" for m in notes)


def wrap(body: str) -> str:
    """The summary's outer ``div`` with its small style sheet."""
    return f'<div class="mixedfit-summary"><style>{_STYLE}</style>{body}</div>'


def standalone_page(fragment: str, title: str) -> str:
    """A complete HTML document around a summary fragment (``<!DOCTYPE html>`` to
    ``</html>``), as written by ``mixedfit fit --output html``."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>"
    )
