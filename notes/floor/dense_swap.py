"""Lane floor, item 2: a fit with the optimizer's criterion (ResidualCriterion.objective)
replaced by the exact dense blocks (DenseResidual) everywhere — does the fit end elsewhere?
Usage: PYTHONPATH=$PWD python notes/floor/dense_swap.py file.csv [dense]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual

if len(sys.argv) > 2:
    real = ResidualCriterion.objective

    def objective(self: ResidualCriterion, x: np.ndarray, reml: bool) -> float:
        if not self._dense:
            self._dense.append(
                DenseResidual(self.layout, self._X, self._y, _spanning(self.layout), self.model)
            )
        dense = self._dense[0]
        assert dense is not None
        value = float(dense.objective(x, reml))
        return value if np.isfinite(value) else real(self, x, reml)

    ResidualCriterion.objective = objective  # type: ignore[method-assign]

d = pd.read_csv(sys.argv[1])
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
t = time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer(
        "y ~ x + ar1(0 + occf | Subject)",
        d,
        reml=False,
        residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
    )
print(
    sys.argv[1:],
    f"loglik {fit.loglik:.8f}",
    np.asarray(fit.theta),
    dict(fit.residual.params),
    fit.converged,
    fit._engine.record.evaluations,
    f"{time.time() - t:.1f}s",
)
for w in seen:
    print("   ", w.category.__name__, str(w.message)[:200])
