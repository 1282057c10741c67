"""Issue 12 (lane byar1): h16_points.json, the two points of by_dense.R.

Run on main ba07fee from the repository root (it prints mixedfit's own criterion there too);
writes the JSON to stdout's last block and to points.json in the working directory.
"""

import json
import warnings

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.model.fit import engine_terms
from mixedfit.model.residual import ResidualModelFit

d = pd.read_csv("tests/reference/cov_vi_relabel/h16_bca.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
warnings.simplefilter("ignore")
F = "y ~ x + ar1(0 + occf | Subject, hom=False)"
by = mf.lmer(F, d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
ne = mf.lmer(F, d, reml=True, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
out = {}
for name, fit in (("by", by), ("nested", ne)):
    e = fit._engine
    print(name, e.theta, e.phi, e.sigma, e.objective, e.loglik, e.model.variance.names)
    crit = ResidualCriterion(
        engine_terms(fit._design), fit._design.X, fit._design.y - fit._design.offset, e.model
    )
    x = np.concatenate([e.theta, e.phi])
    print("  own objective", crit.objective(x, True), "-2l", -2 * fit.loglik)
    if name == "nested":
        bycrit = ResidualCriterion(
            engine_terms(by._design),
            by._design.X,
            by._design.y - by._design.offset,
            by._engine.model,
        )
        u = e.phi[0]
        xm = np.concatenate([e.theta, [u, u, u], e.phi[1:]])
        print(
            "  by= criterion at the mapped nested point",
            bycrit.objective(xm, True),
            "loglik",
            -bycrit.objective(xm, True) / 2,
        )


def absolute(fit: ResidualModelFit, phis: list[float]) -> dict:
    e = fit._engine
    s = e.sigma
    th = e.theta
    var = dict(zip(e.model.variance.names, np.exp(e.phi[-2:]), strict=True))
    ratio = {"a": var["a"], "b": 1.0, "c": var["c"]}
    return dict(
        sd=list(th[:5] * s),
        rho=float(th[5]),
        rsd=[ratio[g] * s for g in "abc"],
        phi=[float(u / np.sqrt(1 + u * u)) for u in phis],
        loglik=fit.loglik,
    )


pts = {"by": absolute(by, by._engine.phi[:3]), "nested": absolute(ne, [ne._engine.phi[0]] * 3)}
with open("points.json", "w") as fh:
    json.dump(pts, fh, indent=1)
print(json.dumps(pts, indent=1))
