import sys, warnings, time, numpy as np, pandas as pd, mixedfit as mf
def gen(seed, sig):
    rng = np.random.default_rng(seed); K = 6; n = int(rng.integers(30, 55)); rho = float(rng.choice([0.2, 0.5, -0.3]))
    L = np.abs(np.subtract.outer(np.arange(K), np.arange(K))); F = np.linalg.cholesky(9 * rho**L)
    Fr = np.linalg.cholesky(0.4**L)
    rows = []
    for s in range(n):
        b = F @ rng.standard_normal(K); e = Fr @ rng.standard_normal(K) * sig * (1.0 if s % 2 == 0 else 0.5)
        for j in range(K):
            x = rng.standard_normal()
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j + 1}", grp="a" if s % 2 == 0 else "b", x=x, y=1 + 0.5 * x + b[j] + e[j]))
    d = pd.DataFrame(rows); d = d.drop(index=d.sample(frac=0.1, random_state=seed).index).reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d
for seed in range(950, 956):
    for sig in (1.0,):
        d = gen(seed, sig)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            c0 = time.process_time()
            try:
                f = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=True, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
            except Exception as e:
                print(seed, sig, "ERR", e); continue
            dt = time.process_time() - c0
        print(seed, sig, f"ll {f.loglik:.7f} evals {f.optimizer.evaluations} conv {f.converged} cpu {dt:.1f}", {k: round(float(v), 5) for k, v in f.residual.params.items()}, flush=True)
        for x in w: print("    W", x.category.__name__, str(x.message)[:110])
