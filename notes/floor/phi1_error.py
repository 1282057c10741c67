"""Lane floor, item 2: the optimizer's criterion (ResidualCriterion.objective, collapsed here)
against the dense blocks at R's maximum of lt_S30000 seed 1 and at mixedfit's (old) optimum,
and along u (φ = u/√(1+u²)) with the rest held. Printed: −2ℓ differences and conditioning().
Usage: PYTHONPATH=$PWD python notes/floor/phi1_error.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.attained import conditioning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.model import engine_terms

NAME = "notes/floor/lt_S30000.0_sig1.0_rho0.99999_p-0.5_r0.3_s1"
warnings.simplefilter("ignore")
d = pd.read_csv(NAME + ".csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
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
r = json.loads(Path(NAME + "_R.json").read_text())
p = r["interior_par"]
phi_r = np.tanh(p[3])
x_r = np.array([np.exp(p[0]), np.tanh(p[1]), phi_r / np.sqrt(1 - phi_r**2), p[2]])
x_m = np.concatenate([np.asarray(fit._engine.theta, float), np.asarray(fit._engine.phi, float)])
print(f"mixedfit (this code) loglik {fit.loglik:.8f}, R best {r['best']:.8f}")
for label, x in (("R max", x_r), ("fit", x_m)):
    for scale in (1.0, 0.5, 0.2, 2.0, 5.0):
        z = x.copy()
        z[2] *= scale
        ref = float(dense.objective(z, False))
        val = crit.objective(z, False)
        kap = conditioning(crit.factor_at(z[2:]), z[:2])
        print(
            f"{label} u x {scale}: Phi {z[2] / np.sqrt(1 + z[2] ** 2):.9f} dense {ref:.8f} "
            f"optimizer {val:.8f} diff {val - ref:.3g} kappa {kap:.3g}",
            flush=True,
        )
