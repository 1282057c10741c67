"""Six more data sets like c29 (ar1hom + VarIdent(grp), no residual noise, ML, 10 % missing), names v0–v5."""
import json
import numpy as np, pandas as pd
out = []
for i in range(6):
    rng = np.random.default_rng(900 + i); K = 6; n = int(rng.integers(30, 55)); rho = float(rng.choice([0.2, 0.5, -0.3]))
    L = np.abs(np.subtract.outer(np.arange(K), np.arange(K))); F = np.linalg.cholesky(9 * rho**L)
    rows = []
    for s in range(n):
        b = F @ rng.standard_normal(K)
        for j in range(K):
            x = rng.standard_normal()
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j + 1}", grp="a" if s % 2 == 0 else "b", x=x, y=1 + 0.5 * x + b[j]))
    d = pd.DataFrame(rows); d = d.drop(index=d.sample(frac=0.1, random_state=i).index).reset_index(drop=True)
    d.to_csv(f"/tmp/p12/stress/data/v{i}.csv", index=False, float_format="%.17g")
    out.append(dict(name=f"v{i}", term="ar1hom", vi=True, K=K, n=n, phi=0.0, rho=rho, sds=[3.0] * K, miss=0.1, ratio=1.0, sig=0.0, reml=False, rows=len(d)))
json.dump(out, open("/tmp/p12/stress/data/specs_v.json", "w"), indent=1)
