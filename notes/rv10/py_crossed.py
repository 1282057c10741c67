"""mixedfit on held-out crossed data: y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject), REML and ML,
rows as given / shuffled / y + 1e4. Run: PYTHONPATH=<tree> python py_crossed.py out.json name..."""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
out = {}
for name in sys.argv[2:]:
    d0 = pd.read_csv(f"/tmp/p10/rv10/data/{name}.csv", dtype={"subject": str})
    T = d0.t.max()
    for reml in [True, False]:
        for v in ["asis", "shuffled", "plus"]:
            d = d0.copy()
            if v == "shuffled":
                d = d.sample(frac=1, random_state=5).reset_index(drop=True)
            if v == "plus":
                d["y"] = d["y"] + 1e4
            d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, T + 1)])
            t0 = time.process_time()
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                f = mf.lmer("y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)", d, reml=reml)
            key = f"{name}.{v}.{'REML' if reml else 'ML'}"
            vc = f.varcorr
            out[key] = dict(loglik=float(f.loglik), sigma=float(f.sigma), beta=[float(b) for b in f.fixef],
                            se=[float(s) for s in np.sqrt(np.diag(np.asarray(f.vcov)))],
                            theta=[float(t) for t in f.theta], varcorr=vc.to_dict("records"),
                            evals=f.optimizer.evaluations, cpu=time.process_time() - t0,
                            warnings=sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in seen}))
            print(key, f"ll={f.loglik:.10f} sigma={f.sigma:.3g} evals={f.optimizer.evaluations} cpu={out[key]['cpu']:.1f}", out[key]["warnings"], flush=True)
            json.dump(out, open(sys.argv[1], "w"), indent=1)
