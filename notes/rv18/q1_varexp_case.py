"""The HIGH case: VarExp spread 1.6e-7 beside a spanning ar1 term (q1_varexp_fit.py's first set).
Fits, saves the data and the reported parameters, compares with the 50-digit exact -2l."""
import json, sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import numpy as np
import mixedfit as mf
from q1_varexp_fit import data
from q1_exact import exact
tag = sys.argv[1]
d = data(-0.8, 20, 1e-3, seed=1)
d.to_csv("/tmp/p13/rv18/varexp_case.csv", index=False, float_format="%.17g")
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False,
                  residual=mf.AR1("occ", "Subject") & mf.VarExp("w"))
p = {k: float(v) for k, v in dict(fit.residual.params).items()}
s, rho = (float(t) for t in np.asarray(fit.theta))
rec = dict(s=s, rho=rho, **p, reml=False, reported_m2l=-2 * fit.loglik, converged=bool(fit.converged),
           warnings=[f"{w.category.__name__}: {w.message}" for w in seen], beta=list(map(float, np.asarray(fit.coef if hasattr(fit,'coef') else []))) if False else None)
rec["exact_m2l_at_reported"] = exact(d, s, rho, p["Phi"], p["expon"])
json.dump(rec, open(f"/tmp/p13/rv18/varexp_case_{tag}.json", "w"), indent=1)
print(json.dumps(rec, indent=1))
