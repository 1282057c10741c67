"""One full fit, one result line. usage: one.py CASE shift scale [relabel] -> prints RESULT json"""
import sys, time, warnings, json
import numpy as np, pandas as pd
import mixedfit as mf
CASES = {"h3w": "tests/reference/cov_by_ar1/h3w.csv", "h3r": "tests/reference/cov_by_ar1/h3r.csv",
         "h3": "tests/reference/cov_by_ar1/h3.csv", "h1": "tests/reference/cov_by_ar1/h1.csv",
         "h16": "tests/reference/cov_vi_relabel/h16_bca.csv", "h8": "tests/reference/cov_by_ar1/h8.csv"}
case, shift, scale = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
d = pd.read_csv(CASES[case]); d["y"] = d["y"] * scale + shift
if "swap" in sys.argv:  # the last group (sorted) becomes the first, by name and by row order
    g = d["grp"].astype(str)
    last = sorted(g.unique())[-1]
    d["grp"] = np.where(g == last, "0" + last, "z" + g)
    d = pd.concat([d[g == last], d[g != last]], ignore_index=True)
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
t = time.process_time()
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True,
                residual=mf.AR1("occ", "Subject", by="grp"))
ll = f.loglik
if scale != 1.0:
    ll_adj = ll + len(d) * np.log(scale) - (len(d) - 2) * 0  # REML: -2l shifts by (n-p) log s^2
    ll_adj = ll + (len(d) - 2) * np.log(scale)
else:
    ll_adj = ll
print("RESULT", json.dumps({"case": case, "shift": shift, "scale": scale, "swap": "swap" in sys.argv,
      "loglik": ll, "loglik_unscaled": ll_adj, "converged": bool(f.optimizer.converged),
      "evaluations": int(f.optimizer.evaluations), "cpu": round(time.process_time() - t, 1),
      "params": {k: round(float(v), 6) for k, v in f.residual.params.items()},
      "warnings": [type(x.message).__name__ + ": " + str(x.message) for x in w]}), flush=True)
