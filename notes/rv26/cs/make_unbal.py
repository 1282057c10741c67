import numpy as np, pandas as pd
REF = "/work/wt-rv26/tests/reference/cov_cs_exact"
for b in ["1e-07", "1e-06"]:
    d = pd.read_csv(f"{REF}/cs_near0_{b}.csv")
    rng = np.random.default_rng(7)
    drop = []
    for s in ["s1", "s4", "s9", "s15", "s22"]:  # one visit missing
        rows = d.index[d.g == s]; drop.append(rng.choice(rows))
    for s in ["s11"]:  # two visits missing
        rows = d.index[d.g == s]; drop += list(rng.choice(rows, 2, replace=False))
    d.drop(index=drop).reset_index(drop=True).to_csv(f"unbal_{b}.csv", index=False)
