"""Item 4 on structured fits: Oxboys (1|Subject)+arh1 (conv lane) and the arh1 limit fit under y×1e-4, ×1e4, +1e4, shuffled."""
import json, math, sys, time, warnings
import numpy as np, pandas as pd, mixedfit as mf
T = sys.argv[1]
d = pd.read_csv(T + "/tests/reference/cov_oxboys/oxboys_miss.csv", dtype={"Subject": str})
d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
ref = json.load(open("/work/rv9/tests/reference/cov_ri_arh/ri_arh_reml.json"))
forms = {"ri_arh": ref["python"], "arh1_limit": "height ~ age + ar1(0 + occf | Subject, hom=False)"}
n, p = len(d), 2
for name, form in forms.items():
    for tag, a, b, shuf in [("orig", 1, 0, False), ("x1e-4", 1e-4, 0, False), ("x1e4", 1e4, 0, False), ("p1e4", 1, 1e4, False), ("shuf", 1, 0, True)]:
        df = d.assign(height=d.height * a + b)
        if shuf: df = df.sample(frac=1, random_state=5).reset_index(drop=True)
        t = time.time()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                f = mf.lmer(form, df)
            except Exception as e:
                print(name, tag, "ERR", e); continue
        ll = f.loglik + (n - p) * math.log(a)  # back to the original units (REML)
        ws = sorted({x.category.__name__ for x in w})
        print(f"{name:10s} {tag:6s} ll(orig units)={ll:.9f} sigma={f.sigma/a:.6g} b1={f.fixef.iloc[1]/a:.8f} se1={f.se.iloc[1]/a:.6g} ev={f.optimizer.evaluations} {time.time()-t:.1f}s {ws}", flush=True)
