"""Trace multistart restarts (objective, phi) for one data file."""
import sys, warnings, numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import multistart as ms
orig = ms._run
def traced(fit_one, model, x0, budget):
    r = orig(fit_one, model, x0, budget)
    if r is not None:
        u = float(r.phi[0]); print(f"  restart x0_u={x0[-1]:+.3f} budget={budget} -> obj {r.objective:.6f} ll {-r.objective/2:.6f} phi {u/np.sqrt(1+u*u):+.5f} evals {r.record.evaluations}")
    return r
ms._run = traced
orig_restarted = ms.restarted
def rs(fit, *a, **k):
    u = float(fit.phi[0]) if fit.phi.size else np.nan
    print(f" first fit obj {fit.objective:.6f} ll {-fit.objective/2:.6f} phi {u/np.sqrt(1+u*u):+.5f}")
    return orig_restarted(fit, *a, **k)
ms.restarted = rs
import mixedfit.engine.residual.fit as F
if hasattr(F, "restarted"): F.restarted = rs
if hasattr(F, "multistart"): pass
if __name__ == "__main__":
    d = pd.read_csv(sys.argv[1]); d["occf"] = pd.Categorical(d.occf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=sys.argv[2] == "REML", residual=mf.AR1("occ", "Subject"))
    print("final ll", f.loglik)
