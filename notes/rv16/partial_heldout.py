import sys, warnings, time
sys.path.insert(0, "/work/rv16/tests")
import numpy as np, pandas as pd
import mixedfit as mf
import test_varident_partial_limit as T
from scipy.optimize import minimize

d0 = T._data()
exp_reml = -7.4054536403
variants = {
  "REML y+100": (d0.assign(y=d0.y + 100), True),
  "REML shuffled": (d0.sample(frac=1, random_state=3).reset_index(drop=True), True),
  "ML as written": (d0, False),
  "REML y*10": (d0.assign(y=d0.y * 10), True),
}
which = sys.argv[1:] or list(variants)
for name in which:
    d, reml = variants[name]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        t = time.process_time()
        f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=reml,
                    residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
        dt = time.process_time() - t
    print(name, "loglik", f"{f.loglik:.8f}", "evals", f.optimizer.evaluations, "conv", f.converged, f"cpu {dt:.1f}s", dict(f.residual.params), flush=True)
    for w in seen: print("   W", w.category.__name__, str(w.message)[:200])
