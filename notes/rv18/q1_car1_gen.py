"""White-noise / weakly correlated CAR(1) data (true Phi 0 or 0.05 per unit time), 40 subjects x 5
irregular times: does the CAR(1) Phi -> 0 probe warn falsely? Writes car1/c{seed}.csv."""
import numpy as np, pandas as pd
for seed in range(12):
    rng = np.random.default_rng(100 + seed)
    phi = 0.0 if seed < 8 else 0.05
    rows = []
    for s in range(40):
        t = np.sort(rng.uniform(0, 10, 5)); b = rng.normal(0, 1)
        C = phi ** np.abs(np.subtract.outer(t, t)) if phi > 0 else np.eye(5)
        e = np.linalg.cholesky(C) @ rng.standard_normal(5)
        for j in range(5):
            rows.append(dict(id=f"s{s:02d}", t=t[j], y=1 + 0.3 * t[j] + b + e[j]))
    pd.DataFrame(rows).to_csv(f"car1/c{seed}.csv", index=False, float_format="%.17g")
