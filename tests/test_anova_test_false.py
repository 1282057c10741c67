"""``fit.anova(other, ..., test=False)``: the fit methods (``LinearMixedModel.anova``,
``ResidualMixedModel.anova``) give the information table of nlme's ``anova(..., test = FALSE)``
exactly as ``mf.anova(fit, other, ..., test=False)`` (whose numbers are checked against nlme in
test_anova_equal_npar.py); without other fits ``test=False`` is an error that says what to do.
Before, the methods took no ``test=`` (TypeError)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from test_residual_lrt import orthodont_fits

import mixedfit as mf
from mixedfit.exceptions import MixedFitError

INFORMATION = ["npar", "aic", "bic", "loglik", "deviance"]


@pytest.fixture(scope="module")
def fits() -> dict[str, Any]:
    return orthodont_fits()


def same_table(method: pd.DataFrame, function: pd.DataFrame) -> None:
    assert list(method.columns) == INFORMATION
    pd.testing.assert_frame_equal(method, function)
    assert method.attrs == function.attrs
    assert method.formulas == function.formulas


@pytest.mark.parametrize(
    "keys",
    [
        ("RI", "CS"),  # an ordinary fit first, then a residual structure
        ("CS", "AR1", "UN"),  # residual structures: not nested
        ("RI+AR1", "RI", "CS small"),  # different fixed effects: the REML rule refits by ML
    ],
)
def test_methods_give_mf_anova_information_table(keys: tuple[str, ...], fits: dict) -> None:
    first, *others = (fits[k] for k in keys)
    same_table(first.anova(*others, test=False), mf.anova(first, *others, test=False))
    names = [k.replace(" ", "_") for k in keys]
    same_table(
        first.anova(*others, names=names, refit=True, test=False),
        mf.anova(first, *others, names=names, refit=True, test=False),
    )


def test_ordinary_fits_not_nested() -> None:
    df = mf.load_dataset("sleepstudy")
    d = mf.lmer("Reaction ~ 1 + (Days | Subject)", df, reml=False)
    e = mf.lmer("Reaction ~ Days + (1 | Subject)", df, reml=False)
    with pytest.raises(MixedFitError, match="not nested"):
        d.anova(e)
    same_table(d.anova(e, test=False), mf.anova(d, e, test=False))


@pytest.mark.parametrize("key", ["RI", "CS"])
def test_test_false_alone_is_an_error(key: str, fits: dict) -> None:
    with pytest.raises(MixedFitError, match=r"anova\(test=False\) with no other fits"):
        fits[key].anova(test=False)
    with pytest.raises(MixedFitError, match="test must be True or False"):
        fits[key].anova(fits["AR1"], test="no")
