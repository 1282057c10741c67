"""Data of tests/test_residual_car1_large.py's continuous-time case (run from the repository
root; numpy only): 2,000 subjects x 5 distinct times on a grid of 0.001 in [0, 10), a residual
CAR(1) with Phi = 0.3 per unit time, y = 1 + 0.2 t + e to 3 decimals (10,000 rows)."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(5)
rows = []
for s in range(2000):
    t = np.sort(rng.choice(10_000, 5, replace=False)) / 1000
    e = np.linalg.cholesky(0.3 ** np.abs(t[:, None] - t[None, :])) @ rng.normal(size=5)
    rows += [
        dict(id=f"s{s:04d}", t=a, y=round(1 + 0.2 * a + b, 3)) for a, b in zip(t, e, strict=True)
    ]
pd.DataFrame(rows).to_csv("tests/reference/cov_car1_continuous/car1_continuous.csv.gz", index=False)
