"""KAPPA band, identifiable: term ar1 hom sd 1 rho 0.95; residual white (phi 0) sd s, VarIdent b ratio 2 by subject."""
import json, numpy as np, pandas as pd
specs = json.load(open("c_specs.json"))
for name, s, seed in [("k3", 0.004, 3), ("k4", 0.0025, 4)]:
    rng = np.random.default_rng(seed); rows = []; K = 6
    L = np.linalg.cholesky(0.95 ** np.abs(np.subtract.outer(range(K), range(K))))
    for i in range(50):
        g = "b" if i % 2 else "a"; u = L @ rng.normal(size=K)
        e = rng.normal(size=K) * s * (2.0 if g == "b" else 1.0)
        for j in range(K):
            x = rng.normal(); rows.append(dict(Subject=f"s{i:02d}", occ=j + 1, occf=f"o{j+1}", x=x, y=1 + 0.5 * x + u[j] + e[j], grp=g))
    pd.DataFrame(rows).to_csv(f"{name}.csv", index=False)
    specs.append(dict(name=name, term="ar1hom", vi=True, K=K, reml=False))
json.dump(specs, open("c_specs.json", "w"), indent=1)
