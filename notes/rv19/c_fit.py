import sys, json, warnings, tempfile, os
import numpy as np, pandas as pd, mixedfit as mf
from mixedfit.engine.residual.attained import conditioning, needs_check
name = sys.argv[1]
d = pd.read_csv(f"/tmp/p13/rv19/{name}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
def run(f):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always"); out = f()
    return out, [f"{w.category.__name__}: {str(w.message)[:200]}" for w in seen]
fit, w1 = run(lambda: mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp")))
eng = fit._engine
kappa = conditioning(eng.factor, np.asarray(eng.theta))
p = {k: float(v) for k, v in dict(fit.residual.params).items()}
path = f"/tmp/p13/rv19/{name}.fit.json"; fit.save(path)
again, w2 = run(lambda: mf.load_fit(path))
def se(f):
    return [float(v) for v in np.sqrt(np.diag(np.asarray(f.vcov())))] if callable(getattr(f, "vcov", None)) else None
out = dict(name=name, loglik=repr(fit.loglik), kappa=kappa, theta=list(map(float, np.asarray(eng.theta))), phi=list(map(float, eng.phi)),
   params=p, beta=list(map(float, np.asarray(fit.fixef))), se=se(fit), sigma=float(fit.sigma), converged=fit.converged,
   evals=fit.optimizer.evaluations, start=fit.optimizer.start if hasattr(fit.optimizer, "start") else None, warn=w1,
   reload_loglik=repr(again.loglik), reload_beta=list(map(float, np.asarray(again.fixef))), reload_se=se(again), reload_sigma=float(again.sigma), reload_warn=w2)
print(json.dumps(out))
