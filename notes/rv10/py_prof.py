"""Profile intervals at the σ → 0 limit: y ~ t + (1|subject) + ar1(0 + tf|subject) on held-out prof_a.csv,
and the equivalent residual fit (lmer (1|subject) + residual AR1). Run: PYTHONPATH=<tree> python py_prof.py"""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
d = pd.read_csv("/tmp/p10/rv10/data/prof_a.csv", dtype={"subject": str})
d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 7)])
out = {}
for label, call in [("struct", lambda df: mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", df)),
                    ("resid", lambda df: mf.lmer("y ~ t + (1|subject)", df, residual=mf.AR1("t", "subject")))]:
    for v in ["asis", "plus"]:
        df = d if v == "asis" else d.assign(y=d.y + 1e4)
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = call(df)
            ci = f.confint(method="profile")
        out[f"{label}.{v}"] = dict(loglik=float(f.loglik), sigma=float(f.sigma), ci=ci.reset_index().astype(str).values.tolist(),
                                   warnings=sorted({f"{w.category.__name__}: {str(w.message)[:200]}" for w in seen}), cpu=time.process_time() - t0)
        print(label, v, f"ll={f.loglik:.10f} sigma={f.sigma:.4g} cpu={time.process_time()-t0:.1f}")
        print(ci.to_string())
        print(out[f"{label}.{v}"]["warnings"], flush=True)
json.dump(out, open("/tmp/p10/rv10/py_prof.json", "w"), indent=1)
