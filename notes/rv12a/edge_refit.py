"""rv12a: refit of an edge fit (seed 12, phi = -1) to other y vs a fresh fit of the same data."""
import sys, warnings
import numpy as np
sys.path.insert(0, "/tmp/p11/rv12a")
from variants import load
from probe_edge import fit
if __name__ == "__main__":
    base = int(sys.argv[1]); d = load(base); f, ws, t = fit(d, reml=sys.argv[2] == "REML")
    print("edge fit", base, f.loglik, f.residual.params["Phi"])
    for s in [int(v) for v in sys.argv[3].split(",")]:
        y = load(s)["y"].to_numpy() + 0.3 * d["x"].to_numpy()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            g = f.refit(y=y)
        h, hw, _ = fit(d.assign(y=y), reml=sys.argv[2] == "REML")
        print(f"refit y of seed {s}: ll={g.loglik:.8f} phi={g.residual.params['Phi']:.6f} evals {g.optimizer.evaluations} | fresh ll={h.loglik:.8f} phi={h.residual.params['Phi']:.6f} evals {h.optimizer.evaluations}",
              sorted({w.category.__name__ + ":" + str(w.message)[:30] for w in seen}), [w[0] for w in hw], flush=True)
