"""Hypothesis: ×k failures come from BOBYQA's relative ftol (1e-13 × |−2ℓ|, and −2ℓ moves by 2m·ln k with y's scale).
Experiment: every minimize_theta run with ftol_rel replaced by ftol_abs·(1 / |f at the untransformed scale| …) — simply
ftol_rel = 0 (pure ftol_abs 1e-12), then the case under its transform."""
import sys, warnings, math
sys.path.insert(0, "/tmp/p18/rv28")
import scan28
from mixedfit.engine import optimize as opt
orig = opt._run_nlopt
def patched(counted, x0, lower, max_evals, ftol_rel, ftol_abs, xtol_abs, upper=None, step_scale=1.0):
    return orig(counted, x0, lower, max_evals, 0.0 if sys.argv[3] == "abs" else ftol_rel, ftol_abs, xtol_abs, upper, step_scale)
opt._run_nlopt = patched
warnings.simplefilter("ignore")
c = scan28.get_case(sys.argv[1]); which = sys.argv[2]
d = scan28.transform(c["data"](), c, which)
f = c["fit"](d)
m = f.nobs - (f._design.X.shape[1] if c["reml"] else 0)
shift = {"mul": -m * math.log(1e3), "div": m * math.log(1e3)}.get(which, 0.0)
print(sys.argv[1:], f.loglik, "d_r", f.loglik - (c["r"] + shift), f.optimizer.converged, f.optimizer.evaluations, f.optimizer.message)
