"""Genuine interior ratio 1e-3 (3 rows per subject-stratum): spurious 'vanished' BoundaryWarning? Both orders."""
import sys, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from make_sims import small
df = small(seed=12, ratio=1e-3, reps=3)
df.to_csv("/tmp/p9/rv9/data/small1e3.csv", index=False)
for tag, d in [("A first", df), ("B first", pd.concat([df[df.stratum == "B"], df[df.stratum != "B"]]).reset_index(drop=True))]:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ stratum + x + (1|subject)", d, residual=mf.VarIdent("stratum"))
    p = dict(f.residual.params); ref = [g for g, v in p.items() if v == 1.0][0]
    print(tag, f"ll={f.loglik:.10f} B/A={p['B']/p['A']:.6g} ev={f.optimizer.evaluations}", [f"{x.category.__name__}: {str(x.message)[:120]}" for x in w])
