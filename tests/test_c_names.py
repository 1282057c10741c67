"""Names of the columns of ``C(f, ...)`` against R (issue 12 naming corner; R's lme4 names in
tests/reference/names/c_spellings.json, script next to it). ``C(f)`` gives ``C(f)b`` in R too:
nothing to fix. R's bare abbreviations of the contrasts (``C(f, treatment)``, ``C(f, sum)``,
``C(f, helmert)``) are not read yet: strict xfail, for the formula lane (they fail with an
unhelpful error, "unknown column 'treatment'" or "tuple index out of range")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mixedfit as mf

REF = json.loads((Path(__file__).parent / "reference" / "names" / "c_spellings.json").read_text())


def _fit(key: str) -> mf.LinearMixedModel:
    return mf.lmer(REF[key]["formula"], mf.load_dataset("cake"))


@pytest.mark.parametrize("key", ["plain", "contr_sum"])
def test_c_names_as_r(key: str) -> None:
    fit = _fit(key)
    assert fit.fixef.index.tolist() == REF[key]["fixef"]
    np.testing.assert_allclose(fit.fixef, REF[key]["beta"], rtol=1e-6)


@pytest.mark.xfail(
    strict=True,
    raises=mf.MixedFitError,
    reason="R's C(f, treatment|sum|helmert) abbreviations are not translated (formula lane)",
)
@pytest.mark.parametrize("key", ["treatment", "sum", "helmert"])
def test_r_contrast_abbreviations(key: str) -> None:
    fit = _fit(key)
    assert fit.fixef.index.tolist() == REF[key]["fixef"]
