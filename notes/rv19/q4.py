"""Evaluations and l of ordinary fits on whichever mixedfit PYTHONPATH gives (old c9fcbc0 / new 3f34995)."""
import json, sys, warnings
import numpy as np, pandas as pd
sys.path.insert(0, "/work/wt-rv19/tests")
import mixedfit as mf
from test_residual_api import REF, load, public_fit
cases = {n: (lambda n=n: public_fit(json.loads((REF / f"{n}.json").read_text()), load(json.loads((REF / f"{n}.json").read_text())["data"])))
         for n in ["orthodont_lme_ri_ar1_reml", "bodyweight_lme_slope_varpower_car1_reml", "ovary_lme_diag_car1_reml", "dialyzer_lme_varpower_reml"]}
def kcase(name):
    d = pd.read_csv(f"/tmp/p13/rv19/{name}.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return lambda: mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
for k in ("k2", "k3"):
    cases[k] = kcase(k)
for a in ("a_ident1", "a_flat2"):
    d = pd.read_csv(f"/tmp/p13/rv19/{a}.csv")
    cases[a] = (lambda d=d: mf.lmer("y ~ x + (1|Subject)", d, reml=False, residual=mf.VarIdent("grp")))
out = {}
for name, f in cases.items():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always"); fit = f()
    out[name] = dict(evals=fit.optimizer.evaluations, loglik=repr(fit.loglik), warn=sorted({w.category.__name__ for w in seen}))
    print(name, out[name], flush=True)
print(json.dumps(out))
