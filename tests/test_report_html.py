"""The HTML summary has every part of the text summary, and a fit displayed on its own in a
notebook renders it (``_repr_html_``) while ``repr`` stays the text."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.report.html import standalone_page
from mixedfit.report.text import format_column, short_text


class _Tables(HTMLParser):
    """Cells of every table, plus all the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        self.text.append(data)


def _parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def fit():
    return mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))


def test_html_has_every_section_of_the_text(fit):
    summary = fit.summary()
    page = _parse(summary._repr_html_())
    text = " ".join(page.text)
    for title in ("Scaled residuals", "Random effects", "Fixed effects", "Correlation of fixed"):
        assert title in text
    assert "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1" in text
    residuals, random, fixed, corr = page.tables
    # scaled residuals: the same five numbers as the text summary
    q = np.quantile(fit.scaled_residuals, [0, 0.25, 0.5, 0.75, 1])
    assert residuals == [["Min", "1Q", "Median", "3Q", "Max"], format_column(q)]
    assert residuals[1][0] == "-3.95356" and residuals[1][4] == "5.17926"  # lme4's values
    assert [row[1] for row in random[1:]] == [*fit.ranef["Subject"].columns, ""]
    # fixed effects: one row per coefficient, p-value and stars as in the text
    names = [str(n) for n in fit.fixef.index]
    assert fixed[0] == ["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", ""]
    assert [row[0] for row in fixed[1:]] == names
    assert fixed[2][5] == "3.26e-06" and fixed[2][6] == "***"
    assert fixed[1][5] == "< 2e-16" and fixed[1][6] == "***"
    # correlation of the fixed effects: lower triangle, lme4's -0.138
    v = fit.vcov.to_numpy()
    r = v[1, 0] / np.sqrt(v[0, 0] * v[1, 1])
    assert corr == [["", names[0]], [names[1], f"{r:.3f}"]] and f"{r:.3f}" == "-0.138"
    assert "Number of obs: 180; groups: Subject: 18" in text


def test_stars_follow_the_pvalues():
    df = mf.load_dataset("sleepstudy").assign(noise=np.random.default_rng(1).normal(size=180))
    fit = mf.lmer("Reaction ~ Days + noise + (1 | Subject)", df)
    fixed = _parse(fit.summary()._repr_html_()).tables[2]
    p = fit.coef_table()["p"].to_numpy()
    assert p[2] > 0.1 and fixed[3][6] == ""  # noise: no star
    assert fixed[2][6] == "***"


def test_single_coefficient_has_no_correlation_table():
    fit = mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff"))
    page = _parse(fit._repr_html_())
    assert len(page.tables) == 3 and "Correlation" not in " ".join(page.text)


def test_notebook_display_is_the_html_summary_and_repr_stays_text(fit):
    assert fit._repr_html_() == fit.summary()._repr_html_()
    assert repr(fit) == short_text(fit) and "<div" not in repr(fit)


def test_dropped_rows_and_notes_in_html():
    df = mf.load_dataset("dyestuff2").astype({"Yield": float})
    df.loc[0, "Yield"] = np.nan
    with pytest.warns(mf.SingularFitWarning):
        fit = mf.lmer("Yield ~ 1 + (1 | Batch)", df)
    text = " ".join(_parse(fit._repr_html_()).text)
    assert "(1 rows with missing values dropped)" in text
    assert "boundary (singular) fit" in text


def test_residual_fit_html_is_laid_out_like_the_plain_one():
    df = mf.load_dataset("orthodont")
    df["agef"] = pd.Categorical(df["age"])
    fit = mf.lmer("distance ~ Sex + age + (1 | Subject)", df, residual=mf.AR1("agef", "Subject"))
    assert repr(fit).startswith("Linear mixed model fit by REML")
    page = _parse(fit._repr_html_())
    text = " ".join(page.text)
    for title in ("Normalized residuals", "Random effects", "Residual covariance"):
        assert title in text
    assert "Signif. codes:" in text and "Correlation of fixed effects" in text
    q = np.quantile(fit.residuals_of("normalized"), [0, 0.25, 0.5, 0.75, 1])
    assert page.tables[0] == [["Min", "1Q", "Median", "3Q", "Max"], format_column(q)]
    fixed = page.tables[-2]  # Wald z tests, as repr(fit)
    assert fixed[0] == ["", "Estimate", "Std. Error", "z value", "Pr(>|z|)", ""]
    assert [row[0] for row in fixed[1:]] == [str(n) for n in fit.fixef.index]
    assert page.tables[-1][1][0] == str(fit.fixef.index[1])
    satt = _parse(fit.summary()._repr_html_()).tables[-2]
    assert satt[0] == ["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", ""]


def test_standalone_page_escapes_its_title():
    page = standalone_page("<p>x</p>", "y ~ x <b>")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<title>y ~ x &lt;b&gt;</title>" in page and "<p>x</p>" in page
