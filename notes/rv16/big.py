import time, warnings, numpy as np, pandas as pd, mixedfit as mf
rng = np.random.default_rng(5); G, K = 20000, 10
g = np.repeat(np.arange(G), K); t = np.tile(np.arange(K), G)
e = np.zeros(G*K); 
for k in range(K): e[t == k] = (0.6 * e[t == k-1] if k else 0) + rng.standard_normal(G)
grp = np.where(g % 3 == 0, "a", "b")
y = 1 + 0.3*t + np.repeat(rng.standard_normal(G), K) + e * np.where(grp == "a", 1.0, 1.5)
d = pd.DataFrame(dict(y=y, t=t, g=[f"g{i}" for i in g], grp=grp))
for lab, res in [("AR1", mf.AR1("t", "g")), ("AR1&VarIdent", mf.AR1("t", "g") & mf.VarIdent("grp"))]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t0 = time.perf_counter(); c0 = time.process_time()
        f = mf.lmer("y ~ t + (1|g)", d, residual=res)
        print(lab, f"obj {f.objective:.6f} evals {f.optimizer.evaluations} wall {time.perf_counter()-t0:.2f}s cpu {time.process_time()-c0:.2f}s", [str(x.message)[:80] for x in w], flush=True)
