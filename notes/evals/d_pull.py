"""Lane evals: data D's edge optimizations from the fit's point pulled back along the vanished
reference's tail (θ and the VarIdent ratios divided by k): evaluations and criterion per edge.
Usage: PYTHONPATH=$PWD python notes/evals/d_pull.py [as-written|c-first] [reml|ml] k..."""
import sys, warnings
from dataclasses import replace
import numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.residual.edge as E
import mixedfit.engine.residual.fit as F
order, reml, ks = sys.argv[1], sys.argv[2] == "reml", [float(k) for k in sys.argv[3:]]
d = pd.read_csv("tests/reference/cov_vi_reference_tail/g3_D.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
if order == "c-first":
    d = pd.concat([d[d.grp == "c"], d[d.grp != "c"]]).reset_index(drop=True)
real_check, real_opt = F.edge_check, E.edge_optimum
def check(fit, terms, X, y, max_evals, fit_one=None):
    print(f"fit: obj {fit.objective:.9f} theta {np.round(fit.theta, 2)} phi {np.round(fit.phi, 3)} fixed {getattr(fit.model.variance, 'fixed', None)}")
    from mixedfit.engine.reterm import ThetaLayout
    from mixedfit.engine.residual.dense import DenseResidual
    from mixedfit.engine.limit_gls import _spanning
    layout = ThetaLayout(tuple(terms))
    dense = DenseResidual(layout, X, y, _spanning(layout), fit.model)
    for k in ks:
        moved = replace(fit, theta=fit.theta / k, phi=np.concatenate([fit.phi[:1], fit.phi[1:] - np.log(k)]))
        for sign in (1.0, -1.0):
            r = real_opt(dense, moved, layout, sign, 2000)
            print(f"  k {k:g} sign {sign:+.0f}: evals {r.evaluations} conv {r.converged} obj {r.objective:.9f} x {np.round(r.theta, 3)}", flush=True)
    return real_check(fit, terms, X, y, max_evals, fit_one)
F.edge_check = check
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=reml, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(fit.loglik)
