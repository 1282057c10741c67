import numpy as np, pandas as pd, sys
if __name__ == "__main__":
    for seed in (10, 11, 12):
        rng = np.random.default_rng(seed); m = 5
        lags = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
        R = np.linalg.cholesky(0.6**lags); rows = []
        for s in range(50):
            b0, b1 = rng.normal(0, 1.0), rng.normal(0, 0.3)
            e = R @ rng.standard_normal(m)
            for j in range(m):
                x = rng.standard_normal()
                rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j+1}", x=x, y=1 + 0.5 * x + b0 + b1 * (j + 1) + e[j]))
        pd.DataFrame(rows).to_csv(f"d_r{seed}.csv", index=False, float_format="%.17g")
