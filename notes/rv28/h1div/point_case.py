"""A scan28 case's fit under a transform: its point (G's sds, ρ, per-group residual sd and φ, levels sorted) for at.R."""
import json, sys, warnings
sys.path.insert(0, "/tmp/p18/rv28")
import scan28
name, which, out = sys.argv[1:4]
c = scan28.get_case(name)
d = scan28.transform(c["data"](), c, which)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = c["fit"](d)
vc = fit.varcorr
sds = vc[(vc["grp"] == "Subject") & (vc["var2"].fillna("") == "")]["sdcor"].to_numpy()
rho = vc[(vc["grp"] == "Subject") & (vc["var2"].fillna("") != "")]["sdcor"].to_numpy()[0]
p = fit.residual.params
lv = sorted(k.split(":")[0] for k in p.keys() if k.endswith(":Phi"))
pt = {"fit": {"sd": [float(s) for s in sds[:5]], "rho": float(rho), "rsd": [float(fit.sigma * p[g]) for g in lv],
              "phi": [float(p[f"{g}:Phi"]) for g in lv], "loglik": fit.loglik}}
json.dump(pt, open(out, "w"))
print(fit.loglik, fit.optimizer.converged, fit.optimizer.evaluations, dict(p), [str(w.message)[:300] for w in seen])
print(pt)
