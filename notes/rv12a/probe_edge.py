"""rv12a: which held-out seeds of the rar1 generator end at an edge; variants."""
import sys, time, warnings, json
sys.path.insert(0, "/work/rv12a/tests/reference/cov_rar1_limit")
import numpy as np, pandas as pd
import mixedfit as mf
from make_rar1_limit_data import simulate

def fit(d, formula="y ~ x + ar1(0 + occf | Subject, hom=False)", reml=True, residual=None):
    residual = residual or mf.AR1("occ", "Subject")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        t = time.process_time()
        f = mf.lmer(formula, d, reml=reml, residual=residual)
        t = time.process_time() - t
    ws = [(w.category.__name__, str(w.message)[:90]) for w in seen]
    return f, ws, t

if __name__ == "__main__":
    seeds = [int(s) for s in sys.argv[1].split(",")]
    reml = sys.argv[2] == "REML"
    out = {}
    for s in seeds:
        d = simulate(s)
        d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
        d.to_csv(f"/tmp/p11/rv12a/rar1_s{s}.csv", index=False, float_format="%.17g")
        f, ws, t = fit(d, reml=reml)
        print(s, reml, "ll=%.8f" % f.loglik, "phi=", f.residual.params.get("Phi"), "evals", f.optimizer.evaluations, "t=%.1f" % t, ws, flush=True)
