import sys, json, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from sims_py import L
warnings.simplefilter("ignore")
d = L("van2.csv"); d["pos"] = d.stratum.map({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5})
df = d.sample(frac=1, random_state=4).reset_index(drop=True)
f = mf.lmer("y ~ stratum + x + (1|subject)", df, residual=mf.AR1("pos", "subject") & mf.VarIdent("stratum"))
vc = f.varcorr; tau = float(vc[vc.grp == "subject"].sdcor.iloc[0])
p = {k: float(v) for k, v in f.residual.params.items()}
json.dump(dict(loglik=f.loglik, tau=tau, sigma=f.sigma, params=p), open("/tmp/p9/rv9/van2_ar1_point.json", "w"))
print(f.loglik, tau, f.sigma, p)
