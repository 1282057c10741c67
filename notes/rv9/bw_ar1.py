import sys, time, warnings, math
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from struct_py import bw
d = bw()
for tag, df, a in [("orig", d, 1), ("x1e-4", d.assign(weight=d.weight * 1e-4), 1e-4), ("shuf", d.sample(frac=1, random_state=2).reset_index(drop=True), 1)]:
    t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("weight ~ Time*Diet + ar1(0 + Timef|Rat)", df)
    print(tag, f"ll={f.loglik + (len(df) - 6) * math.log(a):.9f} sigma={f.sigma/a:.6g} ev={f.optimizer.evaluations} {time.time()-t:.1f}s", sorted({x.category.__name__ for x in w}), flush=True)
