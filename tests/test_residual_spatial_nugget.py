"""A spatial nugget at its bound 0 in the residual fit's derivative check (issue 12, review rv28
LOW; ``mixedfit/engine/residual/bound_probe.py``, ``nugget_entries``).

nlme's gls corExp ML with a nugget on walk_levels_b (tests/reference/cov_spatial_blocks/,
make_spatial_blocks.R) has its nugget at 1.6e-13: the bound 0. With y × 1e3 the fit stopped at a
nugget of 9.4e-13 with ℓ nlme's to 2.8e-7, but warned "max|scaled gradient| = 0.0181": the check
judged the logit of the nugget, where the criterion is flat to its rounding (a Hessian entry of
one rounding unit / h², which grows with |criterion|, so with the units of y). A nugget below
1e-4 times the correlation's fall between the closest points of a subject is now left out, as
lme4 leaves out a θ at 0, unless the criterion falls into the box at a nugget of 1e-2 or 1 times
that fall (walk_levels_a's interior nugget 3.4e-8 is 0.38 of it, worth 0.71 in ℓ: stopped at
1e-12 it warns).
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import fit as fit_module
from mixedfit.exceptions import ConvergenceWarning

HERE = Path(__file__).parent / "reference" / "cov_spatial_blocks"
REF = json.loads((HERE / "spatial_blocks.json").read_text())


@pytest.mark.parametrize("k", [1e3, 1e-3])
def test_vanished_nugget_any_units(k: float) -> None:
    """y × 1e3 warned (y × 1e-3 did not): now neither; ℓ nlme's shifted by −n ln k."""
    d = pd.read_csv(HERE / "walk_levels_b.csv")
    d["y"] = d["y"] * k
    ref = REF["walk_levels_b_nugget"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit = mf.gls("y ~ t", d, reml=False, residual=mf.Spatial("t", "id", nugget=True))
    assert fit.converged
    assert fit.loglik == pytest.approx(ref["loglik"] - len(d) * math.log(k), abs=1e-6)
    assert float(fit.residual.params["nugget"]) < 1e-10


def test_stuck_at_zero_nugget_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    """walk_levels_a's nugget (nlme: 3.4e-8, ℓ 0.71 above no nugget) stopped at 1e-12: the
    criterion falls into the box, a ConvergenceWarning names it."""
    polish = fit_module._polish

    def stop(fun, best, *args):  # type: ignore[no-untyped-def]
        best = polish(fun, best, *args)
        x = best.theta.copy()
        x[-1] = math.log(1e-12)
        return dataclasses.replace(best, theta=x, objective=fun(x), converged=True)

    monkeypatch.setattr(fit_module, "_polish", stop)
    d = pd.read_csv(HERE / "walk_levels_a.csv")
    with pytest.warns(ConvergenceWarning, match="nugget stopped at its bound 0"):
        fit = mf.gls("y ~ t", d, reml=False, residual=mf.Spatial("t", "id", nugget=True))
    assert not fit.converged
    assert fit.loglik < REF["walk_levels_a_nugget"]["loglik"] - 0.5
