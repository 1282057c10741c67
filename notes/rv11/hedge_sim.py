import warnings, time, sys
import numpy as np, pandas as pd
import mixedfit as mf
def sim(seed, subjects=60, phi=0.7, rho=0.3, sig=1.0):
    rng = np.random.default_rng(seed)
    sd = np.array([1.0, 0.6, 1.0, 0.6, 1.0]); m = 5
    lags = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    G = np.linalg.cholesky(np.outer(sd, sd) * rho**lags)
    R = np.linalg.cholesky(sig**2 * phi**lags)
    rows = []
    for s in range(subjects):
        e = G @ rng.standard_normal(m) + R @ rng.standard_normal(m)
        for j in range(m):
            x = rng.standard_normal()
            rows.append(dict(Subject=f"s{s:02d}", occ=j+1, occf=f"o{j+1}", x=x, y=1+0.5*x+e[j]))
    return pd.DataFrame(rows)
F = "y ~ x + ar1(0 + occf | Subject, hom=False)"
for seed in range(int(sys.argv[1]), int(sys.argv[2])):
    d = sim(seed); d.to_csv(f"hedge_s{seed}.csv", index=False, float_format="%.17g")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    for reml in (True, False):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = time.time()
            fit = mf.lmer(F, d, reml=reml, residual=mf.AR1("occ", "Subject"))
        print(seed, "REML" if reml else "ML", f"{time.time()-t:.1f}s ll={fit.loglik:.6f} conv={fit.optimizer.converged}",
              [ (w_.category.__name__, str(w_.message)[:160]) for w_ in w])
        try: print("   ", {k: v for k, v in fit.residual_parameters().items()} if hasattr(fit, "residual_parameters") else "")
        except Exception as e: print("   rp err", e)
        sys.stdout.flush()
