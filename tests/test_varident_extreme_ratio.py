"""VarIdent with a genuine very small or very large ratio (random intercept + VarIdent): nlme's
lme fits every one; session 8's variance-scale optimization with a 1e-3 floor ended at wrong
optima (review rv2). nlme 3.1 REML log-likelihoods of ``lme(y ~ stratum, random = ~1|subject,
weights = varIdent(form = ~1|stratum))`` on the data below (written to CSV by
tests/reference/cov_ratio/make_ratio_data.py, fitted by nlme_small.R / nlme_large.R there)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

RTOL = 1e-7  # -2 log-likelihood, relative
NLME_REML_LOGLIK = {
    0.01: -203.01261736,
    0.003: -94.61573329,
    0.0005: 66.65594993,
    300.0: -1311.40134167,
    1000.0: -1454.66320829,
}


def _data(ratio: float) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for s in range(30):
        b = rng.normal(0, 2)
        for g, mu, sd in (("A", 10, 1.0), ("B", 11, ratio), ("C", 12, 2.0)):
            for _ in range(4):
                rows.append((str(s), g, mu + b + sd * rng.normal()))
    return pd.DataFrame(rows, columns=["subject", "stratum", "y"])


@pytest.mark.parametrize("ratio", sorted(NLME_REML_LOGLIK))
def test_extreme_ratio_matches_nlme(ratio: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no spurious Boundary/ConvergenceWarning
        fit = mf.lmer("y ~ stratum + (1 | subject)", _data(ratio), residual=mf.VarIdent("stratum"))
    assert fit.loglik == pytest.approx(NLME_REML_LOGLIK[ratio], rel=RTOL)
    assert fit.residual.params["A"] == 1.0
    assert fit.residual.params["B"] == pytest.approx(ratio, rel=0.5)  # the estimate, near truth
