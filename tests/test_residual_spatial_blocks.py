"""A spatial range within subjects is not on the ridge of one block (issue 12, lane bound2;
``mixedfit/engine/residual/spatial.py``, ``RANGE_BOUND_BLOCKS``).

The range was bounded at 1e5 times the span of the coordinates, where one block's criterion is
within ~1e-6 of its ridge limit. With several blocks (subjects) the σ²J part is one per block and
does not drop out: the optimum can lie beyond. On random walks around large subject levels
(tests/reference/cov_spatial_blocks/, nlme's gls corExp ML from make_spatial_blocks.R) nlme's
range is 8.9e6 (8e5 times the span) and 1.4e6; the fit stopped at the bound 1.1e6, ℓ 39.0 and
0.40 below nlme's, with a ConvergenceWarning and a BoundaryWarning saying the model was
equivalent to its ridge limit (it is not). With several blocks the bound is now 1e8 times the
span: nlme's optimum, no warning.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual.spatial import RANGE_BOUND_BLOCKS
from mixedfit.exceptions import BoundaryWarning, MixedFitWarning

HERE = Path(__file__).parent / "reference" / "cov_spatial_blocks"
REF = json.loads((HERE / "spatial_blocks.json").read_text())


@pytest.mark.parametrize("name", ["walk_levels_a", "walk_levels_b"])
@pytest.mark.parametrize("nugget", [False, True])
def test_range_beyond_one_blocks_bound(name: str, nugget: bool) -> None:
    ref = REF[name + ("_nugget" if nugget else "")]
    d = pd.read_csv(HERE / f"{name}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedFitWarning)
        fit = mf.gls("y ~ t", d, reml=False, residual=mf.Spatial("t", "id", nugget=nugget))
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-7)
    assert fit.residual.params["range"] == pytest.approx(ref["range"], rel=1e-3)
    assert fit.residual.params["range"] > 1e5 * 11  # beyond the one-block bound
    for key, value in ref["beta"].items():
        assert fit.fixef[key] == pytest.approx(value, rel=1e-4, abs=1e-3)


def test_flat_ridge_with_subject_effects() -> None:
    """With subject effects in X (REML) the σ²J part drops out and the ridge is flat again: the
    range runs towards its bound (within a factor 10 of it), a BoundaryWarning, no
    ConvergenceWarning (the check's central differences there judged the ridge's noise:
    "Hessian not positive definite"; the range is left out of the check where the criterion
    does not fall a factor 10 inside), ℓ at least nlme's (its optim stops on the ridge at a
    range of 1.5e3; nlminb reports false convergence). nlme's REML constant is mixedfit's
    (the independence model's ℓ, same X)."""
    ref = REF["walk_levels_c_REML"]
    d = pd.read_csv(HERE / "walk_levels_c.csv")
    d["one"] = "a"
    indep = mf.gls("y ~ id + t", d, residual=mf.VarIdent("one"))
    assert indep.loglik == pytest.approx(ref["indep"], abs=1e-8)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.gls("y ~ id + t", d, residual=mf.Spatial("t", "id", nugget=True))
    kinds = [w.category for w in seen]
    assert kinds == [BoundaryWarning], [str(w.message) for w in seen]
    assert "range at its bound" in str(seen[0].message)
    assert fit.converged
    assert fit.loglik >= ref["loglik"] - 1e-7
    assert fit.residual.params["range"] > 0.1 * RANGE_BOUND_BLOCKS * 11
