"""rv12a: methods of an edge fit (seed 12, phi = -1): predict, refit to other y, save/load, simulate."""
import sys, warnings, tempfile, os
import numpy as np, pandas as pd
import mixedfit as mf
sys.path.insert(0, "/tmp/p11/rv12a")
from variants import load
from probe_edge import fit
if __name__ == "__main__":
    d = load(12); f, ws, t = fit(d)
    print("edge fit", f.loglik, f.residual.params)
    p = f.predict(d); print("predict(d) - fitted max", np.max(np.abs(np.asarray(p) - np.asarray(f.fitted))))
    d2 = d.copy(); d2["Subject"] = "new" + d2["Subject"]
    p2 = f.predict(d2, allow_new_levels=True) if True else None
    print("predict new levels - Xb", np.max(np.abs(np.asarray(p2) - (f.fixef.iloc[0] + f.fixef.iloc[1] * d["x"]).to_numpy())))
    for s in (6, 11, 12):
        y = load(s)["y"].to_numpy()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            g = f.refit(y=y)
        h, _, _ = fit(load(s).assign(Subject=d["Subject"]))
        print(f"refit y of seed {s}: ll={g.loglik:.8f} phi={g.residual.params['Phi']} | fresh fit ll={h.loglik:.8f} phi={h.residual.params['Phi']}",
              [w.category.__name__ for w in seen])
    path = os.path.join(tempfile.mkdtemp(), "e.json"); f.save(path); a = mf.load_fit(path)
    print("reload", a.loglik == f.loglik, np.max(np.abs(np.asarray(a.predict(d)) - np.asarray(p))))
    sims = f.simulate(2000, seed=3)
    rows = (d["Subject"] == "s00").to_numpy()
    S = np.cov(sims[rows]); 
    print("simulate cov s00 vs model V:\n", np.round(S, 4))
    print("sigma^2", f.sigma**2, "rcov", np.round(f.residual_cov("s00").to_numpy(), 5))
    print(f.summary() if hasattr(f, "summary") else "")
    print(f.anova() if hasattr(f, "anova") else "")
