import sys, time, warnings
import pandas as pd, mixedfit as mf
d = pd.read_csv("/tmp/p9/rv9/data/ar1hi.csv", dtype={"subject": str}); d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 9)])
for tag, df in [("orig", d), ("x1e4", d.assign(y=d.y * 1e4))]:
    t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject, hom=False)", df)
    import math
    ll = f.loglik + (240 - 2) * (math.log(1e4) if tag == "x1e4" else 0)
    print(tag, f"ll={ll:.9f} sigma={f.sigma:.6g} ev={f.optimizer.evaluations} {time.time()-t:.1f}s", sorted({f"{x.category.__name__}: {str(x.message)[:80]}" for x in w}), flush=True)
