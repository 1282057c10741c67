"""The fixed-effects table prints as R's printCoefmat (lme4/lmerTest summary, digits = 4):
df 17.000 for sleepstudy's Satterthwaite df of 16.99997, not 17.000001 or a rounding of its own
(issue 13 §4). References: tests/reference/printing/coefmat_print.R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.report.text import coefmat_columns, r_format

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "printing" / "coefmat_print.json").read_text()
)


def _rows(columns: dict[str, list[str]]) -> list[list[str]]:
    return [list(row) for row in zip(*columns.values(), strict=True)]


@pytest.mark.parametrize("case", REFERENCE["cases"])
def test_coefmat_columns_print_as_r(case):
    values = {
        "Estimate": np.array(case["est"]),
        "Std. Error": np.array(case["se"]),
        "df": np.array(case["df"]),
        "t value": np.array(case["t"], dtype=float),
    }
    assert _rows(coefmat_columns(values, "t value")) == case["printed"]


def test_sleepstudy_summary_prints_lmertest_fixed_effects():
    ref = REFERENCE["sleepstudy"]
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    np.testing.assert_allclose(fit.coef_table()["df"], ref["df"], rtol=1e-4)  # lme4 optimum vs ours
    lines = fit.summary().text.split("Fixed effects:\n")[1].splitlines()
    assert lines[0].split() == ["Estimate", "Std.", "Error", "df", "t", "value", "Pr(>|t|)"]
    for line, printed in zip(lines[1:3], ref["printed"], strict=True):
        assert line.split()[1:5] == printed  # 251.405  6.825  17.000  36.838
    html = fit.summary()._repr_html_()
    assert "17.000" in html and "251.405" in html and "17.0000" not in html


def test_r_format_keeps_nan_empty_and_zero():
    assert r_format(np.array([np.nan, 0.0, 2.5]), 4) == ["", "0.0", "2.5"]
