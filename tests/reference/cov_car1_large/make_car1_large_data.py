"""Data of tests/test_residual_car1_large.py (run from the repository root; numpy only):
1,900 subjects x 5 of 12 integer visit times, a residual CAR(1) with Phi = 0.014 per unit time,
y = 1000 (1 + 0.2 t + e) to 2 decimals (sigma ~ 1000: |-2 log L| ~ 1.6e5), and t2, each subject's
times permuted (no serial correlation along t2)."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(1)
rows = []
for s in range(1900):
    t = np.sort(rng.choice(np.arange(1, 13), 5, replace=False)).astype(float)
    e = np.linalg.cholesky(0.014 ** np.abs(t[:, None] - t[None, :])) @ rng.normal(size=5)
    for tt, ee in zip(t, e, strict=True):
        rows.append(dict(id=f"s{s:04d}", t=int(tt), y=round(1000 * (1 + 0.2 * tt + ee), 2)))
d = pd.DataFrame(rows)
perm = np.random.default_rng(2)
d["t2"] = d.groupby("id")["t"].transform(lambda t: perm.permutation(t.to_numpy()))
d.to_csv("tests/reference/cov_car1_large/car1_large.csv.gz", index=False)
