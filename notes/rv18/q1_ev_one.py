"""One ev/ set (argv[1]) fitted; full warning texts."""
import json, sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
name = sys.argv[1]
d = pd.read_csv(f"/tmp/p13/rv18/ev/{name}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 5)])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True,
                  residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(name, f"{fit.loglik:.10f}", {k: float(v) for k, v in dict(fit.residual.params).items()}, np.asarray(fit.theta).tolist(),
      fit.optimizer.evaluations, fit.converged)
for w in seen:
    print(" -", w.category.__name__, str(w.message))
