"""near-edge fits (lane floor) saved and reloaded: same l, beta, SE, sigma, warnings?"""
import sys, json, warnings
import numpy as np, pandas as pd, mixedfit as mf
from mixedfit.engine.residual.attained import conditioning
REF = "/work/wt-rv19/tests/reference/cov_near_edge"
name = sys.argv[1]
d = pd.read_csv(f"{REF}/{name}.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
def run(f):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always"); out = f()
    return out, [f"{w.category.__name__}: {str(w.message)[:120]}" for w in seen]
fit, w1 = run(lambda: mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp")))
path = f"/tmp/p13/rv19/{name}.fit.json"; fit.save(path)
again, w2 = run(lambda: mf.load_fit(path))
se = lambda f: [float(v) for v in np.asarray(f.coef_table()["se"] if hasattr(f, "coef_table") else [])]
eng = fit._engine
print(json.dumps(dict(name=name, loglik=repr(fit.loglik), reload=repr(again.loglik), start=fit.optimizer.start, evals=fit.optimizer.evaluations,
  kappa=conditioning(eng.factor, np.asarray(eng.theta)), phi=float(fit.residual.params["Phi"]),
  beta=list(map(float, np.asarray(fit.fixef))), beta2=list(map(float, np.asarray(again.fixef))), sigma=[float(fit.sigma), float(again.sigma)],
  se=[list(map(float, np.asarray(fit.se))), list(map(float, np.asarray(again.se)))], warn=w1, warn2=w2)))
