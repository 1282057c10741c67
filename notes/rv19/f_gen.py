"""FLAT adversarial: y ~ x + (1|Subject) + VarIdent(grp), 60 subjects x 5; stratum b = one row in each of
the first m subjects, its residual sd s_b (a: 1). b's variance sits beside the intercept's: weakly identified."""
import numpy as np, pandas as pd, sys
for name, m, sb, seed in [("f1", 20, 0.002, 1), ("f2", 20, 0.002, 2), ("f3", 30, 0.01, 3), ("f4", 10, 0.0, 4)]:
    rng = np.random.default_rng(seed); rows = []
    for s in range(60):
        u = rng.normal()
        for j in range(5):
            b = j == 0 and s < m; x = rng.normal()
            rows.append(dict(Subject=f"s{s:02d}", x=x, grp="b" if b else "a", y=1 + 0.5 * x + u + (sb if b else 1.0) * rng.normal()))
    pd.DataFrame(rows).to_csv(f"{name}.csv", index=False)
