"""Full fit of a csv (AR1 & VarIdent beside ar1het), REML: ℓ, ratio, evaluations, seconds."""
import sys, warnings, time
import numpy as np, pandas as pd
import mixedfit as mf
path = sys.argv[1]
d = pd.read_csv(path)
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 5)])
t = time.time()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True,
                  residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
p = dict(fit.residual.params)
print(path.split("/")[-1], f"{fit.loglik:.10f}", float(p["Phi"]), float(p["b"]) / float(p["a"]), fit.optimizer.evaluations, f"{time.time()-t:.1f}s")
