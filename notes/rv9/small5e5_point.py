import sys, warnings, json
sys.path.insert(0, "/tmp/p9/rv9")
import numpy as np
warnings.simplefilter("ignore")
from sims_py import M
out = {}
for k in ["small5e5_REML", "small5e5_REML_shuf"]:
    f = M[k]()
    vc = f.varcorr
    tau = float(vc[vc.grp == "subject"].sdcor.iloc[0])
    p = {str(a): float(v) for a, v in f.residual.params.items()}
    ref = [g for g, v in p.items() if v == 1.0]
    out[k] = dict(loglik=f.loglik, tau=tau, sigma=f.sigma, ratios=p, beta=f.fixef.tolist())
    print(k, f.loglik, tau, f.sigma, p)
json.dump(out, open("/tmp/p9/rv9/small5e5_point.json", "w"))
