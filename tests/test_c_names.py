"""R's ``C(f, contr, how.many, ...)`` against R (stats::C; lme4's fits and names in
tests/reference/names/c_spellings.json, script next to it): bare abbreviations
(``C(f, treatment)``, ``sum``, ``helmert``, ``poly``, ``SAS``), strings, ``contr.*`` functions and
R calls, how.many, further arguments, matrices from ``context=``, no intercept and an
interaction: the names, the values of the design columns and β. Before, the abbreviations failed
with "unknown column 'treatment'" or "tuple index out of range", ``C(f, contr.treatment)`` was
named after the levels (R numbers it) and a matrix lost R's name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.formula import parse_formula
from mixedfit.formula.rcontrasts import quote_abbreviations

REF = json.loads((Path(__file__).parent / "reference" / "names" / "c_spellings.json").read_text())
KEYS = [k for k in REF if k not in ("context", "engine")]
CONTEXT = {
    "M": pd.DataFrame(REF["context"]["M"], columns=REF["context"]["M_columns"]),
    "Mn": np.array(REF["context"]["Mn"]),
}


@pytest.fixture(scope="module")
def cake() -> pd.DataFrame:
    return mf.load_dataset("cake")


@pytest.mark.parametrize("key", KEYS)
def test_c_as_r(key: str, cake: pd.DataFrame) -> None:
    ref = REF[key]
    fit = mf.lmer(ref["formula"], cake, context=CONTEXT)
    assert fit.fixef.index.tolist() == ref["fixef"]
    np.testing.assert_allclose(fit.fixef, ref["beta"], rtol=1e-6, atol=1e-9)
    X = build_design(parse_formula(ref["formula"]), cake, context=CONTEXT).X
    np.testing.assert_allclose(X[ref["rows"]], ref["X"], atol=1e-12)


@pytest.mark.parametrize("key", ["treatment", "sum", "helmert", "poly", "SAS", "how_many_one"])
def test_abbreviations_in_safe_mode(key: str, cake: pd.DataFrame) -> None:
    """The abbreviation is read from the text (never evaluated): safe mode takes it."""
    fit = mf.lmer(REF[key]["formula"], cake, safe=True)
    assert fit.fixef.index.tolist() == REF[key]["fixef"]


def test_abbreviation_is_not_a_variable(cake: pd.DataFrame) -> None:
    """As R's substitute(contr): a column or context name ``sum``/``treatment`` is not read."""
    data = cake.assign(sum=1.0, treatment="x")
    fit = mf.lmer("angle ~ C(recipe, sum) + temp + (1 | replicate)", data, context={"sum": 5})
    assert fit.fixef.index.tolist() == REF["sum"]["fixef"]
    fit = mf.lmer("angle ~ C(recipe, treatment) + temp + (1 | replicate)", data, safe=True)
    assert fit.fixef.index.tolist() == REF["treatment"]["fixef"]


def test_quote_abbreviations() -> None:
    assert quote_abbreviations("C(f, sum) + I(sum(x)) + C(`a.b`, poly, 1)") == (
        'C(f, "sum") + I(sum(x)) + C(`a.b`, "poly", 1)'
    )
    assert quote_abbreviations("C(f, contr = SAS) + C(f, 'sum') + C(sum)") == (
        "C(f, contr = \"SAS\") + C(f, 'sum') + C(sum)"
    )


def test_matrix_refused_in_safe_mode(cake: pd.DataFrame) -> None:
    with pytest.raises(mf.FormulaError, match=r"contrast matrix.*not in safe mode.*'M'"):
        mf.lmer("angle ~ C(recipe, M) + (1 | replicate)", cake, context=CONTEXT, safe=True)


def test_predict_and_save_keep_the_coding(cake: pd.DataFrame, tmp_path: Path) -> None:
    ref = REF["interaction"]
    fit = mf.lmer(ref["formula"], cake)
    new = cake.iloc[ref["rows"]]
    expected = np.asarray(ref["X"]) @ fit.fixef.to_numpy()
    np.testing.assert_allclose(fit.predict(new, random=False), expected, rtol=1e-12)
    fit.save(tmp_path / "fit.json")
    loaded = mf.load_fit(tmp_path / "fit.json")
    assert loaded.fixef.index.tolist() == REF["interaction"]["fixef"]
    np.testing.assert_allclose(loaded.predict(new, random=False), fit.predict(new, random=False))


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("C(recipe, 'foo')", r"C\(recipe, \"foo\"\): unknown contrasts 'foo'"),
        ("C(recipe, sum, 5)", r"C\(recipe, sum, 5\): 5 contrast column\(s\) asked"),
        ("C(recipe, sum, 0)", r"how.many must be a positive whole number, not 0"),
        ("C(recipe, M4)", r"C\(recipe, <matrix>\): the contrast matrix has 4 rows"),
        ("C(recipe, M1)", r"orthogonal complement, which mixedfit does not"),
        ("C(recipe, contr.treatment(4))", r"has 4 rows but the factor has 3 levels"),
        ("C(recipe, Sum, 1)", r"how.many and further arguments work with R's contrasts"),
        ("C(recipe, contr.sum, base = 2)", r"contr.sum\(\) takes n, contrasts, sparse"),
        ("C(recipe, N)", r"Unable to evaluate factor `C\(recipe, N\)`.*not int"),
    ],
)
def test_clear_errors(term: str, message: str, cake: pd.DataFrame) -> None:
    context = {"M4": np.eye(4)[:, :3], "M1": np.array([[1.0], [0.0], [-1.0]]), "N": 3}
    with pytest.raises(mf.FormulaError, match=message):
        mf.lmer(f"angle ~ {term} + temp + (1 | replicate)", cake, context=context)
