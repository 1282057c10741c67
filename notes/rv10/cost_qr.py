"""Cost of the QR path (spread < 1e-2) at n = 12,000: a VarIdent ratio 0.005 (QR) vs 0.05 (cross products).
Run: PYTHONPATH=<tree> python cost_qr.py"""
import time, warnings, os
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import criterion as C

def data(ratio, nsub=1500, m=8, seed=3):
    rng = np.random.default_rng(seed)
    t = np.tile(np.arange(1, m + 1), nsub)
    sub = np.repeat(np.arange(nsub), m)
    strata = np.array(list("ABCD"))[(t - 1) % 4]
    sd = pd.Series({"A": 1.0, "B": ratio, "C": 1.5, "D": 0.7})[strata].to_numpy()
    e = np.empty(nsub * m)
    for i in range(nsub):  # AR(1) 0.4 standardized errors
        z = rng.standard_normal(m); ee = np.empty(m); ee[0] = z[0]
        for j in range(1, m): ee[j] = 0.4 * ee[j - 1] + np.sqrt(1 - 0.16) * z[j]
        e[i * m:(i + 1) * m] = ee
    x = rng.normal(size=nsub * m)
    y = 1 + 0.5 * x + rng.normal(size=nsub)[sub] + sd * e
    return pd.DataFrame(dict(subject=sub.astype(str), t=t, stratum=strata, x=x, y=y))

calls = {"orth": 0}
orig = C.OrthogonalCriterion.objective
def spy(self, *a, **k):
    calls["orth"] += 1
    return orig(self, *a, **k)
C.OrthogonalCriterion.objective = spy

for ratio in [0.05, 0.005]:
    df = data(ratio)
    for label, kw in [("RI+VarIdent", dict(formula="y ~ stratum + x + (1|subject)", res=mf.VarIdent("stratum"))),
                      ("RI+AR1&VarIdent", dict(formula="y ~ stratum + x + (1|subject)", res=mf.AR1("t", "subject") & mf.VarIdent("stratum")))]:
        calls["orth"] = 0
        t0 = time.perf_counter(); c0 = time.process_time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit = mf.lmer(kw["formula"], df, residual=kw["res"])
        print(f"ratio {ratio} {label}: n={len(df)} wall {time.perf_counter()-t0:.2f}s cpu {time.process_time()-c0:.2f}s evals {fit.optimizer.evaluations} orth-evals {calls['orth']} ll {fit.loglik:.6f} B {fit.residual.params['B']:.4g} warn {[str(w.message)[:80] for w in seen]} load {os.getloadavg()[0]:.1f}", flush=True)
