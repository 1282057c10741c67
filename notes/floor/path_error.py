"""Lane floor, item 2: along a fit's own optimization, the optimizer's criterion
(ResidualCriterion.objective) against the dense blocks at every evaluation (spanning term):
the largest differences, where (θ, Phi, ratio) and the running best. Shows whether the path
crossed a region where the criterion is noisy.
Usage: PYTHONPATH=$PWD python notes/floor/path_error.py file.csv
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.engine.residual.criterion import ResidualCriterion

real = ResidualCriterion.objective
seen: list[tuple[float, float, np.ndarray]] = []


def objective(self: ResidualCriterion, x: np.ndarray, reml: bool) -> float:
    value = real(self, x, reml)
    if len(self.terms) and self.model.size == 2:
        if not self._dense:
            self.dense_at(np.array([0.0, -100.0]))  # builds the dense evaluation
        dense = self._dense[0]
        if dense is not None:
            seen.append((value, float(dense.objective(x, reml)), np.array(x, dtype=float)))
    return value


ResidualCriterion.objective = objective  # type: ignore[method-assign]
d = pd.read_csv(sys.argv[1])
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
warnings.simplefilter("ignore")
fit = mf.lmer(
    "y ~ x + ar1(0 + occf | Subject)",
    d,
    reml=False,
    residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
)
print(sys.argv[1], f"loglik {fit.loglik:.8f}", len(seen), "evaluations recorded")
diffs = np.array([abs(v - r) if np.isfinite(r) and np.isfinite(v) else np.inf for v, r, _ in seen])
finite = np.isfinite(diffs)
print("non-finite pairs:", int((~finite).sum()))
for q in (0.5, 0.9, 0.99, 1.0):
    print(f"quantile {q}: |optimizer - dense| {np.quantile(diffs[finite], q):.3g}")
for i in np.argsort(np.where(finite, diffs, -1))[::-1][:8]:
    v, r, x = seen[i]
    u = x[2]
    print(
        f"  eval {i}: diff {v - r:.3g} dense {r:.6f} theta {x[:2]} "
        f"Phi {u / np.sqrt(1 + u * u):.8f} "
        f"log ratio {x[3]:.3f}"
    )
