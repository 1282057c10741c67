"""KAPPA band (1e5 < conditioning < 1e6) cases: y ~ x + ar1(0+occf|Subject) (hom), residual
AR1(occ|Subject) & VarIdent(grp) (subject-level grp), term sd 1, rho 0.5, residual sd s (phi 0.5, ratio b 2)."""
import json, numpy as np, pandas as pd
specs = []
for name, s, seed in [("k1", 0.005, 1), ("k2", 0.003, 2)]:
    rng = np.random.default_rng(seed); rows = []; K = 6
    L = np.linalg.cholesky(0.5 ** np.abs(np.subtract.outer(range(K), range(K))))
    for i in range(50):
        g = "b" if i % 2 else "a"; u = L @ rng.normal(size=K)
        e = L @ rng.normal(size=K) * s * (2.0 if g == "b" else 1.0)
        for j in range(K):
            x = rng.normal(); rows.append(dict(Subject=f"s{i:02d}", occ=j + 1, occf=f"o{j+1}", x=x, y=1 + 0.5 * x + u[j] + e[j], grp=g))
    pd.DataFrame(rows).to_csv(f"{name}.csv", index=False)
    specs.append(dict(name=name, term="ar1hom", vi=True, K=K, reml=False))
json.dump(specs, open("c_specs.json", "w"), indent=1)
