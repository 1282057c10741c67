"""A heterogeneous ``diag(0 + f | g)`` over complete visits: lme4's count rule, and why (issue 12,
review stress LOW; ``mixedfit/design/build.py`` ``DIAG_HINT``, docs/repeated-measures.md).

The term has as many random effects as observations; lme4 refuses it. Beside an AR(1) residual it
is identified: glmmTMB fits ``diag(0 + occf | Subject) + ar1(0 + occf | Subject)`` with
``dispformula = ~0`` (positive definite Hessian; tests/reference/diag_ar1_count/make_diag_ar1.R).
mixedfit still refuses it (with or without ``residual=``, as lme4), and the message now says so
and names the fitted alternatives; the ``hom=True`` term beside AR1 is fitted (a submodel of
glmmTMB's: its ℓ is not above glmmTMB's).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf

HERE = Path(__file__).parent / "reference" / "diag_ar1_count"
REF = json.loads((HERE / "diag_ar1.json").read_text())


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    d = pd.read_csv(HERE / "diag_ar1.csv")
    d["occf"] = pd.Categorical(d["occf"].astype(str), categories=[str(j) for j in range(1, 7)])
    d["Subject"] = d["Subject"].astype(str)
    return d


@pytest.mark.parametrize("residual", [True, False])
def test_refusal_says_why(visits: pd.DataFrame, residual: bool) -> None:
    assert "number of random effects (=240)" in REF["lme4_error"]  # lme4 refuses the count too
    kwargs = {"residual": mf.AR1("occ", "Subject")} if residual else {}
    with pytest.raises(mf.DataError, match="240 random effects for 240 observations") as err:
        mf.lmer("y ~ x + diag(0 + occf | Subject)", visits, reml=False, **kwargs)
    assert "glmmTMB fits diag(0 + f | g) + ar1(0 + f | g)" in str(err.value)
    assert "hom=True" in str(err.value)


def test_hom_term_is_fitted(visits: pd.DataFrame) -> None:
    assert REF["glmmTMB_pdHess"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(
            "y ~ x + diag(0 + occf | Subject, hom=True)",
            visits,
            reml=False,
            residual=mf.AR1("occ", "Subject"),
        )
    assert fit.loglik <= REF["glmmTMB_loglik"] + 1e-6
