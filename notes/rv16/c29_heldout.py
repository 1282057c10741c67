import sys, json, warnings, time
import numpy as np, pandas as pd
import mixedfit as mf
H = "/work/rv16/tests/reference/cov_rar1_stress/"
case, var = sys.argv[1], sys.argv[2]
ref = json.load(open(H + f"{case}_ML.json"))
d = pd.read_csv(H + f"{case}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
if var == "y+100": d["y"] = d["y"] + 100
if var == "shuffle": d = d.sample(frac=1, random_state=11).reset_index(drop=True)
if var == "subjrev": d = d.iloc[::-1].reset_index(drop=True)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    t = time.process_time()
    f = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    dt = time.process_time() - t
best = max(v for k, v in ref.items() if isinstance(v, (int, float)) and k in ("interior", "limit", "edge_plus", "edge_minus", "best"))
print(case, var, f"loglik {f.loglik:.7f}", "R", {k: v for k, v in ref.items() if isinstance(v, float) and "phi" not in k}, "evals", f.optimizer.evaluations, "conv", f.converged, f"cpu {dt:.1f}s", flush=True)
for w in seen: print("   W", w.category.__name__, str(w.message)[:160])
