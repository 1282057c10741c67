"""The likelihood-ratio table's labels, names and the note on refitting (text, HTML, CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.inference.lrt_table import LRTTable

SMALL = "Reaction ~ Days + (1 | Subject)"
BIG = "Reaction ~ Days + (Days | Subject)"
REFITTED = "REML fits were refitted by maximum likelihood (ML) for the comparison."
NOT_REFITTED = "Compared by the REML criterion (same fixed effects; not refitted by ML)."


@pytest.fixture(scope="module")
def models():
    data = mf.load_dataset("sleepstudy")
    return mf.lmer(SMALL, data), mf.lmer(BIG, data)


def test_short_labels_and_the_models_they_stand_for(models):
    m0, m1 = models
    table = mf.anova(m1, m0)  # any order in: simplest first out
    assert isinstance(table, LRTTable) and isinstance(table, pd.DataFrame)
    assert table.index.tolist() == ["M1", "M2"]
    assert table.formulas == {"M1": SMALL, "M2": BIG}
    assert table.attrs == {"method": "REML", "refitted": False}
    text = repr(table)
    assert text.splitlines()[:4] == ["Models:", f"M1: {SMALL}", f"M2: {BIG}", NOT_REFITTED]
    assert "42.836" in text  # the numbers follow


def test_refit_is_stated_in_text_and_html(models):
    m0, m1 = models
    table = mf.anova(m0, m1, refit=True)
    assert REFITTED in table.to_text()
    html = table._repr_html_()
    assert REFITTED in html and "<code>Reaction ~ Days + (Days | Subject)</code>" in html
    assert "<table" in html
    ml = mf.anova(m0.refit(reml=False), m1.refit(reml=False))
    assert "Compared by maximum likelihood (ML fits; nothing refitted)." in ml.to_text()


def test_names_follow_the_argument_order(models):
    m0, m1 = models
    table = mf.anova(m1, m0, names=["slopes", "intercepts"])
    assert table.index.tolist() == ["intercepts", "slopes"]
    assert table.formulas == {"intercepts": SMALL, "slopes": BIG}
    method = m1.anova(m0, names=["slopes", "intercepts"])
    pd.testing.assert_frame_equal(method, table)
    np.testing.assert_allclose(table["chisq"].iloc[1], mf.anova(m0, m1)["chisq"].iloc[1])


def test_derived_tables_keep_the_header(models):
    table = mf.anova(*models).round(3)
    assert isinstance(table, LRTTable) and table.formulas == {"M1": SMALL, "M2": BIG}
    assert table.to_text().startswith("Models:\nM1: ")
    last = table.iloc[1:]
    assert last.to_text().splitlines()[:2] == ["Models:", f"M2: {BIG}"]


@pytest.mark.parametrize("names", [["a"], ["a", "a"], "ab", [1, 2]])
def test_bad_names_are_refused(models, names):
    with pytest.raises(mf.MixedFitError, match="names must"):
        mf.anova(*models, names=names)


def test_cli_says_the_fits_were_refitted():
    from test_cli import run  # main() in this process (a subprocess imports mixedfit anew)

    out = run("anova", "sleepstudy", SMALL, BIG, "--refit")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:4] == ["Models:", f"M1: {SMALL}", f"M2: {BIG}", REFITTED]
    assert "42.139" in out.stdout
