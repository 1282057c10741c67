"""Wall (best of 5) and evaluations of a few ordinary fits, on whichever mixedfit PYTHONPATH gives:
run alternately with the old (c9fcbc0) and new (619bb8a) trees (q4_ab.sh)."""
import json, sys, time, warnings
import numpy as np, pandas as pd
sys.path.insert(0, "/work/wt-rv18/tests")
import mixedfit as mf
from test_residual_api import REF, load, public_fit
rng = np.random.default_rng(0)
rows = []
for s in range(2000):
    b = rng.normal(); e = 0.0
    for j in range(6):
        e = 0.6 * e + rng.normal() * 0.8
        rows.append(dict(Subject=f"s{s}", occ=j + 1, x=rng.normal(), y=1 + 0.5 * rng.normal() + b + e))
big = pd.DataFrame(rows)
cases = {n: (lambda n=n: public_fit(json.loads((REF / f"{n}.json").read_text()), load(json.loads((REF / f"{n}.json").read_text())["data"])))
         for n in ["orthodont_lme_ri_ar1_reml", "bodyweight_lme_slope_varpower_car1_reml", "ovary_lme_diag_car1_reml", "dialyzer_lme_varpower_reml"]}
cases["ri_ar1_2000x6"] = lambda: mf.lmer("y ~ x + (1|Subject)", big, reml=True, residual=mf.AR1("occ", "Subject"))
out = {}
for name, f in cases.items():
    walls = []
    for _ in range(5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter(); fit = f(); walls.append(time.perf_counter() - t)
    out[name] = dict(wall=min(walls), evals=fit.optimizer.evaluations, loglik=fit.loglik)
print(json.dumps(out))
