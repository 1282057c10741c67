"""Fits whose VarExp per-row spread ends below DENSE_BELOW beside a spanning ar1 term: reported
-2l vs the numpy dense -2l at the reported parameters (q1_varexp.dense_ml)."""
import sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import numpy as np, pandas as pd
import mixedfit as mf
from q1_varexp import dense_ml

def data(delta, wmax, tsd, n=60, seed=2):
    rng = np.random.default_rng(seed)
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    F, E = np.linalg.cholesky(0.5**lag), np.linalg.cholesky(0.6**lag)
    rows = []
    for s in range(n):
        b, e = tsd * F @ rng.standard_normal(6), E @ rng.standard_normal(6)
        for j in range(6):
            x, w = rng.standard_normal(), rng.uniform(0, wmax)
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j+1}", x=x, w=w,
                             y=1 + 0.5 * x + b[j] + np.exp(delta * w) * e[j]))
    d = pd.DataFrame(rows)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d

if __name__ == "__main__":
 for delta, wmax, tsd, seed in [(-0.8, 20, 1e-3, 1), (-0.8, 20, 1e-4, 2), (-1.0, 20, 1e-5, 3), (-0.9, 20, 1e-6, 4)]:
    d = data(delta, wmax, tsd, seed=seed)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False,
                          residual=mf.AR1("occ", "Subject") & mf.VarExp("w"))
        except Exception as e:
            print(delta, wmax, tsd, "ERR", type(e).__name__, str(e)[:200]); continue
    p = dict(fit.residual.params)
    sp = float(np.exp(p["expon"] * d["w"]).min() / np.exp(p["expon"] * d["w"]).max())
    mine = dense_ml(d, [float(t) for t in fit.theta], p["Phi"], p["expon"])
    print(f"delta={delta} tsd={tsd} theta={np.asarray(fit.theta)} params={ {k: float(v) for k, v in p.items()} } spread={sp:.3g} "
          f"reported={-2*fit.loglik:.9f} dense={mine:.9f} err={-2*fit.loglik-mine:.3g} conv={fit.converged} "
          f"warn={[w.category.__name__+': '+str(w.message)[:90] for w in seen]}", flush=True)
