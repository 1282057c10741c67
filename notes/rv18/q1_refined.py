"""RefinedGLS beyond tiny3's cases: gls with AR1/CAR1 (missing visits), VarIdent & VarPower, ML
and REML, B's sd 1e-9 / 1e-12 of A's. Reported -2l vs the 50-digit Decimal -2l at the reported
parameters (q1_decgls.exact), and nearby points (is it a maximum?)."""
import json, sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import numpy as np, pandas as pd
import mixedfit as mf
from q1_decgls import exact

def data(ratio, seed, miss=0.15, n=40, K=6):
    rng = np.random.default_rng(seed)
    rows = []
    lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
    L = np.linalg.cholesky(0.5 ** lag)
    for g in range(n):
        e = L @ rng.standard_normal(K)
        for t in range(K):
            s = "ABC"[(g + t) % 3]; v = rng.uniform(0.5, 3.0); x = rng.standard_normal()
            sd = {"A": 1.0, "B": ratio, "C": 1.5}[s] * v ** 0.5
            rows.append(dict(g=f"g{g:02d}", t=t, s=s, v=v, x=x, y=1 + 0.5 * x + sd * e[t]))
    d = pd.DataFrame(rows)
    d = d.drop(index=d.sample(frac=miss, random_state=seed).index).reset_index(drop=True)
    return d

CASES = {
    "car1_vi": lambda: mf.CAR1("t", "g") & mf.VarIdent("s"),
    "ar1_vi_vp": lambda: mf.AR1("t", "g") & mf.VarIdent("s") & mf.VarPower("v"),
    "vi_vp": lambda: mf.VarIdent("s") & mf.VarPower("v"),
}
if __name__ == "__main__":
    res = []
    for ratio in (1e-9, 1e-12):
        for case, make in CASES.items():
            for reml in (False, True):
                d = data(ratio, seed=7)
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    fit = mf.gls("y ~ x", d, residual=make(), reml=reml)
                p = {k: float(v) for k, v in dict(fit.residual.params).items()}
                ex = exact(d, p, reml)
                r = dict(ratio=ratio, case=case, reml=reml, params=p, reported=-2 * fit.loglik, exact=ex,
                         err=-2 * fit.loglik - ex, warns=[f"{w.category.__name__}: {str(w.message)[:100]}" for w in seen],
                         evals=fit.optimizer.evaluations)
                res.append(r); print(json.dumps(r), flush=True)
                d.to_csv(f"/tmp/p13/rv18/refined_{case}_{ratio:g}.csv", index=False, float_format="%.17g")
    json.dump(res, open(f"/tmp/p13/rv18/q1_refined_{sys.argv[1]}.json", "w"), indent=1)
