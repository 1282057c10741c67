"""Copy of review rv19's notes/rv19/a_gen.py (a_ident1.csv here is its make("ident", 1)).
Data for the FLAT / small-interior-ratio checks: y ~ x + (1|Subject), residual VarIdent(grp).
A1 'ident': rows of both strata within a subject, stratum b sd 0.004 of a's: interior ratio
well identified (criterion rises steeply towards 0). A2 'flat': one b row per subject, b sd
0.003: the ratio is weakly identified (b's rows' variance dominated by the intercept)."""
import numpy as np, pandas as pd
def make(kind, seed, nsub=60, k=5, ratio=0.004):
    rng = np.random.default_rng(seed); rows = []
    for s in range(nsub):
        u = rng.normal()
        for j in range(k):
            b = (j % 2 == 1) if kind == "ident" else (j == 0)
            sd = ratio if b else 1.0
            x = rng.normal()
            rows.append(dict(Subject=f"s{s:02d}", x=x, grp="b" if b else "a", y=1 + 0.5 * x + u + sd * rng.normal()))
    return pd.DataFrame(rows)
for kind, r in [("ident", 0.004), ("flat", 0.003)]:
    for seed in (1, 2):
        make(kind, seed, ratio=r).to_csv(f"a_{kind}{seed}.csv", index=False)
