"""Q2/Q4: does partial_retry run on fits that are not at the full σ → 0 limit (its trigger is
vanishing.at_limit, not result.residual_at_limit)? Counts its refits and their evaluations."""
import sys, warnings, time
import numpy as np
import mixedfit as mf
import mixedfit.engine.residual.partial as P
import mixedfit.engine.residual.fit as F
import common
calls = []
orig_refit = P._refit
def refit(*a, **k):
    r = orig_refit(*a, **k); calls.append((r.record.evaluations, r.objective)); return r
P._refit = refit
orig_pr = F.partial_retry
info = []
def pr(fit, terms, *a, **k):
    from mixedfit.engine.reterm import ThetaLayout
    info.append(("at_limit(model)", fit.at_limit, "evals before", fit.record.evaluations))
    return orig_pr(fit, terms, *a, **k)
F.partial_retry = pr
name = sys.argv[1]
if name.startswith("g3_"):
    d = common.load(f"/tmp/p13/rv17/data/{name}.csv", 5); formula = "y ~ x + ar1(0 + occf | Subject%s)" % ("" if sys.argv[2] == "hom" else ", hom=False")
else:
    d = common.load(f"{common.REF}/cov_vi_stress/{name}.csv", 6); formula = "y ~ x + ar1(0 + occf | Subject)"
reml = sys.argv[3] == "REML"
t0 = time.process_time()
f, w = common.fit(formula, d, mf.AR1("occ", "Subject") & mf.VarIdent("grp"), reml)
print(name, sys.argv[3], "ll %.8f" % f.loglik, "evals", f.optimizer.evaluations, "cpu %.1f" % (time.process_time() - t0), info, "partial refits (evals, objective):", calls)
