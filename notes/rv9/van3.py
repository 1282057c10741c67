"""Vanishing stratum carried by a random slope + intercept (y_C = mu + b0 + b1 x exactly), lone VarIdent."""
import sys, time, warnings
import numpy as np, pandas as pd, mixedfit as mf
rng = np.random.default_rng(21); rows = []
for s in range(40):
    b0, b1 = rng.normal(0, 1.5), rng.normal(0, 0.5)
    for g, sd in {"A": 1.0, "B": 0.7, "C": 0.0, "D": 2.0}.items():
        for _ in range(2):
            x = rng.uniform(0, 3)
            rows.append((f"s{s:02d}", g, round(x, 4), round(5 + (ord(g) - 65) + b0 + (0.5 + b1) * x + sd * rng.normal(), 6)))
d = pd.DataFrame(rows, columns=["subject", "stratum", "x", "y"]); d.to_csv("/tmp/p9/rv9/data/van3.csv", index=False)
for tag, df in [("orig", d), ("shuf", d.sample(frac=1, random_state=1).reset_index(drop=True)), ("Cfirst", pd.concat([d[d.stratum == "C"], d[d.stratum != "C"]]).reset_index(drop=True))]:
    t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ stratum + x + (1 + x|subject)", df, residual=mf.VarIdent("stratum"))
    print(tag, f"ll={f.loglik:.9f} ev={f.optimizer.evaluations} {time.time()-t:.1f}s", {k: float(f"{v:.4g}") for k, v in f.residual.params.items()}, sorted({x.category.__name__ for x in w}), flush=True)
