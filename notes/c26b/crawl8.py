"""c26b: seed 8's reflected second start (restart.improve): φ and the criterion along its 65k evaluations."""
import sys, warnings, pandas as pd, numpy as np, mixedfit as mf
import mixedfit.engine.residual.restart as R
import mixedfit.engine.residual.criterion as C
d = pd.read_csv("notes/rv15/data/plain_8.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
state = {"on": False, "n": 0, "best": np.inf}
real_obj = C.ResidualCriterion.objective
def obj(self, x, reml):
    v = real_obj(self, x, reml)
    if state["on"]:
        state["n"] += 1; state["best"] = min(state["best"], v)
        if state["n"] % 2500 == 0:
            u = x[self.n_theta]
            print(f"eval {state['n']:6d} phi {u/np.sqrt(1+u*u):+.7f} ratio b {np.exp(x[-1]):.3g} best -2l {state['best']:.9f}", flush=True)
    return v
C.ResidualCriterion.objective = obj
real = R.improve
def improve(*a, **k):
    state["on"] = True
    try: return real(*a, **k)
    finally: state["on"] = False
R.improve = improve
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
print(fit.loglik)
