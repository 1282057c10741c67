"""Summary text (snapshot), short print, HTML rendering, and the summary's numbers."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

import mixedfit as mf

SNAPSHOTS = Path(__file__).parent / "snapshots"
FORMULA = "Reaction ~ 1 + Days + (1 + Days | Subject)"


@pytest.fixture(scope="module")
def fit():
    return mf.lmer(FORMULA, mf.load_dataset("sleepstudy"))


def test_summary_snapshot(fit):
    """Regenerate with tests/snapshots/README.md's command after a deliberate format change."""
    expected = (SNAPSHOTS / "sleepstudy_summary.txt").read_text().rstrip("\n")
    assert fit.summary().text == expected


def test_print_snapshot(fit):
    expected = (SNAPSHOTS / "sleepstudy_print.txt").read_text().rstrip("\n")
    assert repr(fit) == expected


def test_summary_numbers_follow_lme4(fit):
    text = str(fit.summary())
    for piece in [
        "REML criterion at convergence: 1743.6283",
        "612.09",
        "24.740",
        "0.07",
        "654.94",
        "251.405",
        "6.825",
        "17.000",
        "36.838",
        "3.26e-06",
        "-0.138",
        "t-tests use Satterthwaite's method",
    ]:
        assert piece in text
    assert "Kenward-Roger" in fit.summary(ddf="kenward-roger").text
    assert "df" not in fit.summary(ddf="none").text.split("Fixed effects:")[1].split("\n")[1]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_render(fit):
    page = fit.summary()._repr_html_()
    parser = _Collect()
    parser.feed(page)
    assert parser.tags.count("table") == 4  # residuals, random and fixed effects, correlation
    text = " ".join(parser.text)
    for piece in [
        "Linear mixed model fit by REML",
        FORMULA,
        "Subject",
        "Residual",
        "251.405",
        "3.26e-06",
        "Satterthwaite",
    ]:
        assert piece in text


def test_html_escapes_names():
    df = mf.load_dataset("sleepstudy").rename(columns={"Subject": "<b>S</b>"})
    fit = mf.lmer("Reaction ~ Days + (1 | `<b>S</b>`)", df)
    page = fit.summary()._repr_html_()
    assert "<b>S</b>" not in page and "&lt;b&gt;S&lt;/b&gt;" in page


def test_bad_ddf(fit):
    with pytest.raises(ValueError, match="ddf must be one of"):
        fit.summary(ddf="bogus")


def test_singular_message_in_summary():
    with pytest.warns(mf.SingularFitWarning):
        fit = mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff2"))
    assert "boundary (singular) fit" in fit.summary().text
