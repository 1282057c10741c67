"""A rejected VarIdent boundary probe (issue 12, review rv9 MEDIUM-2): the fit continues in the
parameterization referred to the largest stratum, so a genuinely small stratum that is nlme's
reference (its rows first) does not leave BOBYQA crawling among ratios ~1000 (8,192 evaluations
before, 604 before the probe existed). Data: tests/reference/cov_probe/small1e3.csv (B's sd 1e-3
of A's, an interior optimum); nlme's value from nlme_small1e3.R (small1e3.json)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import BoundaryWarning

HERE = Path(__file__).parent / "reference" / "cov_probe"


@pytest.mark.parametrize("b_first", [False, True])
def test_rejected_probe_continues_referred_to_the_largest(b_first: bool) -> None:
    ref = json.loads((HERE / "small1e3.json").read_text())
    df = pd.read_csv(HERE / "small1e3.csv")
    if b_first:
        df = pd.concat([df[df.stratum == "B"], df[df.stratum != "B"]]).reset_index(drop=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ stratum + x + (1|subject)", df, residual=mf.VarIdent("stratum"))
    assert fit.optimizer.evaluations <= 2_000
    assert abs(fit.loglik - ref["loglik"]) <= 1e-8 * abs(ref["loglik"])
    params = dict(fit.residual.params)
    assert params["B"] / params["A"] == pytest.approx(ref["ratios"]["B"], rel=1e-3)
    assert not [w for w in caught if issubclass(w.category, BoundaryWarning)]
