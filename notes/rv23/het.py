"""rv23: does relabel fire on a heterogeneous correlation structure's own time strata (no VarIdent)?"""
import json, time, warnings, sys
import numpy as np, pandas as pd, mixedfit as mf
import mixedfit.engine.residual.fit as F
rng = np.random.default_rng(7)
n, K = 60, 4
sd = np.array([0.5, 3.0, 6.0, 8.0])
rows = []
for i in range(n):
    e = rng.standard_normal(K)
    z = np.sqrt(0.4) * rng.standard_normal() + np.sqrt(0.6) * e  # CS corr 0.4
    z = np.sqrt(0.4) * rng.standard_normal() * np.ones(K) + np.sqrt(0.6) * e
    x = rng.standard_normal()
    for k in range(K):
        rows.append(dict(id=f"s{i:02d}", visit=f"v{k+1}", x=x, y=1 + 0.5 * x + k + sd[k] * z[k]))
d = pd.DataFrame(rows)
d.to_csv("/tmp/p15/rv23/het_data.csv", index=False)
structs = {
    "CSH": mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True),
    "ARH1": mf.AR1(time="visit", subject="id", heterogeneous=True),
}
orig = F.relabelled
out = {}
for name, s in structs.items():
    for mode in ("relabel", "off"):
        F.relabelled = orig if mode == "relabel" else (lambda fit, *a, **k: fit)
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fit = mf.gls("y ~ x + visit", d, residual=s, reml=True)
        rec = dict(loglik=fit.loglik, evals=fit.optimizer.evaluations, sigma=fit.sigma,
                   params={k: float(v) for k, v in fit.residual.params.items()}, cpu=time.process_time() - t0,
                   warn=[f"{x.category.__name__}: {str(x.message)[:200]}" for x in w])
        out[f"{name}_{mode}"] = rec
        print(name, mode, json.dumps(rec), flush=True)
F.relabelled = orig
json.dump(out, open("/tmp/p15/rv23/het.json", "w"), indent=1)
