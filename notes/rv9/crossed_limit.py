"""Crossed term + structured term at the σ → 0 limit (limit2's polish on the nested limit model)."""
import sys, time, warnings
import numpy as np, pandas as pd, mixedfit as mf
d = pd.read_csv("/tmp/p9/rv9/data/ar1hi.csv", dtype={"subject": str})
d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 9)])
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
d["item"] = [f"i{k}" for k in rng.integers(0, 6, len(d))]
d.to_csv("/tmp/p9/rv9/data/ar1hi_item.csv", index=False)
for tag, df in [("orig", d), ("p1e4", d.assign(y=d.y + 1e4)), ("shuf", d.sample(frac=1, random_state=3).reset_index(drop=True))]:
    t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)", df)
    print(tag, f"ll={f.loglik:.10f} sigma={f.sigma} item={f.covariances['item'].to_numpy().ravel()} ev={f.optimizer.evaluations} {time.time()-t:.1f}s", sorted({x.category.__name__ for x in w}), flush=True)
