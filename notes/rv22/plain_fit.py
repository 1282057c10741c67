"""rv22: structured ar1 term + AR1 residual, no VarIdent (4 halvings now, 3 before): df with the code's halvings and
with 3 forced; start values for R's sat_plain.R. Usage: plain_fit.py seed method ..."""
import sys, json, warnings, numpy as np, pandas as pd, mixedfit as mf
from mixedfit.inference import residual_varpar as RV
args = sys.argv[1:]
orig = RV._Unprofiled.__init__
for seed, method in zip(args[::2], args[1::2]):
    d = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    d.to_csv(f"/tmp/p15/rv22/plain/p{seed}.csv", index=False)
    out = dict(seed=int(seed), method=method)
    for h in ("code", 3):
        def init(self, fit, h=h):
            orig(self, fit)
            if h != "code":
                self.halvings = h
        RV._Unprofiled.__init__ = init
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=method == "reml", residual=mf.AR1("occ", "Subject"))
            ct = fit.coef_table()
        out[f"df_{h}"] = ct["df"].tolist()
        out["loglik"] = fit.loglik; out["warnings"] = [str(x.message)[:120] for x in w]
        vc = fit.varcorr
        out["varcorr"] = vc.astype(str).to_dict("records") if hasattr(vc, "to_dict") else str(vc)
        out["sigma"] = fit.sigma; out["phi"] = float(fit.residual.params["Phi"]); out["se"] = ct.iloc[:, 1].tolist()
        out["halvings_used"] = None
    RV._Unprofiled.__init__ = orig
    print(json.dumps(out), flush=True)
