import json, warnings, math, sys
import numpy as np, pandas as pd
import mixedfit as mf
R = json.load(open("ref.json"))
def rd(f):
    d = pd.read_csv(f); d["t"] = d["t"].astype(str); d["site"] = d["site"].astype(str); return d
cases = [("ev6_big_ML", "ev6.csv", "y ~ x + arm + t + site + x:arm", False), ("ev6_big_REML", "ev6.csv", "y ~ x + arm + t + site + x:arm", True),
         ("ev4_ML", "ev4.csv", "y ~ x + arm + t", False)]
for name, f, form, reml in cases:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fit = mf.gls(form, rd(f), residual=mf.CompoundSymmetry("g"), reml=reml)
            print(name, "l", fit.loglik, "R", R[name]["loglik"], "rho", fit.residual.params.get("Rho"), "conv", fit.optimizer.converged, [f"{x.category.__name__}: {str(x.message)[:80]}" for x in w], flush=True)
        except Exception as e:
            print(name, "ERROR", type(e).__name__, str(e)[:200], flush=True)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    try:
        fit = mf.lmer("y ~ x + arm + t + (1 + tn | site)", rd("ev2.csv"), residual=mf.CompoundSymmetry("g"), reml=False)
        print("slope_site_ML l", fit.loglik, "R", R["slope_site_ML"]["loglik"], "rho", fit.residual.params.get("Rho"), fit.optimizer.converged, [f"{x.category.__name__}: {str(x.message)[:80]}" for x in w])
    except Exception as e:
        print("slope_site_ML ERROR", type(e).__name__, str(e)[:200])
