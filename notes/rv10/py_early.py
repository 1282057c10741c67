"""mixedfit: y ~ t + ar1(0 + tf|subject[, hom=False]) on early_*.csv, REML and ML. Run: PYTHONPATH=<tree> python py_early.py out.json"""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
out = {}
for name, hom in [("early_a", True), ("early_b", False), ("early_c", True)]:
    d = pd.read_csv(f"/tmp/p10/rv10/data/{name}.csv", dtype={"subject": str})
    T = d.t.max(); d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, T + 1)])
    form = "y ~ t + ar1(0 + tf|subject)" if hom else "y ~ t + ar1(0 + tf|subject, hom=False)"
    for reml in [True, False]:
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.lmer(form, d, reml=reml)
        k = f"{name}.{'REML' if reml else 'ML'}"
        out[k] = dict(loglik=float(f.loglik), sigma=float(f.sigma), theta=[float(x) for x in f.theta], evals=f.optimizer.evaluations,
                      cpu=time.process_time() - t0, warnings=sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in seen}))
        print(k, f"ll={f.loglik:.10f} sigma={f.sigma:.4g} evals={f.optimizer.evaluations}", out[k]["warnings"], flush=True)
json.dump(out, open(sys.argv[1], "w"), indent=1)
