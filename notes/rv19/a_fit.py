import sys, json, warnings, tempfile, os
import numpy as np, pandas as pd, mixedfit as mf
name, reml = sys.argv[1], sys.argv[2] == "REML"
d = pd.read_csv(f"/tmp/p13/rv19/{name}.csv")
def run(f):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always"); out = f()
    return out, [f"{w.category.__name__}: {str(w.message)[:160]}" for w in seen]
fit, w1 = run(lambda: mf.lmer("y ~ x + (1|Subject)", d, reml=reml, residual=mf.VarIdent("grp")))
p = {k: float(v) for k, v in dict(fit.residual.params).items()}
path = tempfile.mktemp(suffix=".json"); fit.save(path)
again, w2 = run(lambda: mf.load_fit(path)); os.remove(path)
print(json.dumps(dict(name=name, reml=reml, loglik=fit.loglik, params=p, beta=list(map(float, fit.fixef)) if hasattr(fit,'fixef') else None,
   theta=list(map(float, np.asarray(fit.theta))), converged=fit.converged, evals=fit.optimizer.evaluations, warn=w1,
   reload_loglik=again.loglik, reload_warn=w2)))
