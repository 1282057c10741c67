"""h1 (AR1(by=) REML) with y × k for several k: ℓ vs R's best shifted by −(n−p) ln k."""
import json, math, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
name = sys.argv[1] if len(sys.argv) > 1 else "h1"
R = json.load(open(f"tests/reference/cov_by_ar1/{name}_by_REML.json"))["best"]
for k in map(float, sys.argv[2:]):
    d = pd.read_csv(f"tests/reference/cov_by_ar1/{name}.csv"); d["y"] = d["y"] * k
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    t = time.process_time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
    want = R - (len(d) - 2) * math.log(k)
    p = fit.residual.params
    print(json.dumps(dict(k=k, loglik=fit.loglik, d_r=fit.loglik - want, conv=fit.optimizer.converged, evals=fit.optimizer.evaluations,
                          cpu=round(time.process_time() - t, 1), sigma=fit.sigma, params={a: float(b) for a, b in p.items()},
                          warnings=[f"{w.category.__name__}: {str(w.message)[:90]}" for w in seen])), flush=True)
