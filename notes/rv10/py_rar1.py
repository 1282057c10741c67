"""mixedfit on held-out rar1 data: y ~ x + ar1(0 + occf | Subject, hom=False), residual AR1(occ, Subject).
Run: PYTHONPATH=<tree> python py_rar1.py out.json name..."""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
out = {}
for name in sys.argv[2:]:
    for reml in [True, False]:
        df = pd.read_csv(f"/tmp/p10/rv10/data/{name}.csv")
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", df, reml=reml, residual=mf.AR1("occ", "Subject"))
        key = f"{name}.{'REML' if reml else 'ML'}"
        out[key] = dict(loglik=float(fit.loglik), sigma=float(fit.sigma), beta=[float(b) for b in fit.fixef],
                        theta=[float(t) for t in fit.theta], params={k: float(v) for k, v in fit.residual.params.items()},
                        evals=fit.optimizer.evaluations, converged=fit.optimizer.converged, cpu=time.process_time() - t0,
                        warnings=sorted({f"{w.category.__name__}: {str(w.message)[:300]}" for w in seen}))
        print(key, out[key], flush=True)
        json.dump(out, open(sys.argv[1], "w"), indent=1)
