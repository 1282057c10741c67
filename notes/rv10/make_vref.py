"""Held-out: a VarIdent reference stratum (A, first in the data) whose residual variance is 0."""
import numpy as np, pandas as pd
rng = np.random.default_rng(51)
rows = []
sd = {"A": 0.0, "B": 1.0, "C": 2.0, "D": 0.5}
eff = {"A": 0.0, "B": 0.5, "C": -0.3, "D": 1.0}
for i in range(25):
    b = rng.normal(0, 1.2)
    for g in ["A", "B", "B", "C", "C", "D"]:
        x = rng.normal()
        rows.append((f"s{i:02d}", g, x, round(1 + 0.5 * x + eff[g] + b + sd[g] * rng.normal(), 8)))
df = pd.DataFrame(rows, columns=["subject", "stratum", "x", "y"])
df.to_csv("data/vref.csv", index=False)
