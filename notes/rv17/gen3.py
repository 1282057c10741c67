"""Data with 3 VarIdent strata beside an ar1(0 + occf | Subject) term and an AR(1) residual: some strata
with (near) zero residual noise, so partial σ → 0 limits (vi5) with 3 strata. Missing visits optional.
python gen3.py seed sds(a,b,c) miss hom -> data/g3_<tag>.csv"""
import sys, os
import numpy as np, pandas as pd
seed = int(sys.argv[1]); sds = [float(v) for v in sys.argv[2].split(",")]; miss = float(sys.argv[3]); hom = sys.argv[4] == "hom"
tag = sys.argv[5]
rng = np.random.default_rng(seed)
K, N = 5, 36
lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
s = np.full(K, 2.0) if hom else np.array([2.0, 1.0, 2.5, 1.5, 3.0])
G = np.outer(s, s) * 0.6 ** lag
F = np.linalg.cholesky(G); R = np.linalg.cholesky(0.4 ** lag)
rows = []
for i in range(N):
    g = "abc"[i % 3]
    b = F @ rng.standard_normal(K); e = sds["abc".index(g)] * (R @ rng.standard_normal(K))
    for j in range(K):
        if j > 0 and rng.random() < miss:
            continue
        x = rng.standard_normal()
        rows.append(dict(Subject=f"s{i:02d}", occ=j + 1, occf=f"o{j + 1}", x=x, y=1 + 0.5 * x + b[j] + e[j], grp=g))
os.makedirs("/tmp/p13/rv17/data", exist_ok=True)
pd.DataFrame(rows).to_csv(f"/tmp/p13/rv17/data/g3_{tag}.csv", index=False)
print(tag, len(rows))
