"""Lane floor, item 2: the optimizer's own criterion (ResidualCriterion.objective: for
ar1(0 + occf | Subject) beside AR1 & VarIdent the collapsed one, :mod:`.collapsed`; attn's
accuracy.py measured fast_factor_at) against the exact dense blocks, at stress v1's / v5's θ
scaled by ``mult``, spreads >= TINY (where the optimizer uses it), φ 0 / 0.6 / 0.99 / 0.9999.
Printed: relative error and conditioning() of the whitened factor there.
Usage: PYTHONPATH=$PWD python notes/floor/optimizer_accuracy.py
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

sys.path.insert(0, "notes/attn")
sys.path.insert(0, "tests")
from accuracy import load, set_ar

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.attained import conditioning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.model import engine_terms

warnings.simplefilter("ignore")
for name, mults in (("v1", (1.0, 1e2, 1e3, 1e4)), ("v5", (1.0,))):
    d = load(name)
    fit = mf.lmer(
        "y ~ x + ar1(0 + occf | Subject)",
        d,
        reml=False,
        residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
    )
    terms = engine_terms(fit._design)
    X, y, model = fit._design.X, fit._design.y, fit._engine.model
    crit = ResidualCriterion(terms, X, y, model)
    dense = DenseResidual(crit.layout, X, y, _spanning(crit.layout), model)
    for mult in mults:
        theta = np.asarray(fit._engine.theta, dtype=float) * np.array([mult, 1.0])
        for phi_ar in (0.0, 0.6, 0.99, 0.9999):
            cells = []
            for s in (1.0, 0.3, 0.1, 0.03, 0.0101):
                phi = set_ar(model, phi_ar, s)
                x = np.concatenate([theta, phi])
                ref = float(dense.objective(x, False))
                try:
                    val = crit.objective(x, False)
                except np.linalg.LinAlgError:
                    val = np.inf
                kap = conditioning(crit.factor_at(phi), theta)
                cells.append(f"{s:g}:{abs(val - ref) / abs(ref):.1e}(k{kap:.0e})")
            print(f"{name} theta0={theta[0]:.4g} phi={phi_ar}: " + " ".join(cells), flush=True)
