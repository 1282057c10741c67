"""Held-out seeds of the rar1 generator (tests/reference/cov_rar1_limit/make_rar1_limit_data.py), and a variant with 20 subjects / other sds."""
import sys
import numpy as np, pandas as pd
sys.path.insert(0, "/work/wt-rv10/tests/reference/cov_rar1_limit")
from make_rar1_limit_data import simulate

def simulate2(seed, subjects=20, sd=(1.0, 0.2, 0.8, 0.02, 1.3), rho=0.4):
    rng = np.random.default_rng(seed)
    sd = np.array(sd); m = len(sd)
    lags = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    factor = np.linalg.cholesky(np.outer(sd, sd) * rho**lags)
    rows = []
    for s in range(subjects):
        e = factor @ rng.standard_normal(m)
        for j in range(m):
            x = rng.standard_normal()
            rows.append({"Subject": f"s{s:02d}", "occ": j + 1, "occf": f"o{j + 1}", "x": x, "y": 1 + 0.5 * x + e[j]})
    return pd.DataFrame(rows)

if __name__ == "__main__":
    for seed in [3, 4, 5]:
        simulate(seed).to_csv(f"data/rar1_s{seed}.csv", index=False, float_format="%.17g")
    for seed in [21, 22]:
        simulate2(seed).to_csv(f"data/rar1b_s{seed}.csv", index=False, float_format="%.17g")
