"""c26b: the criterion at a saved fit's x by every path."""
import sys, json, warnings, numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.io import residual_file as rf
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.engine.residual.attained import conditioning, needs_check, independent_objective
from mixedfit.engine.limit_gls import _spanning
captured = {}
orig = rf.compare_estimates
def grab(estimates, solution, objective, where):
    captured["obj"] = objective
rf.compare_estimates = grab
orig_rc = rf.ResidualCriterion
class RC(orig_rc):
    def __init__(self, *a, **k):
        super().__init__(*a, **k); captured["crit"] = self; captured["args"] = a
rf.ResidualCriterion = RC
path = sys.argv[1]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    g = mf.load_fit(path)
doc = json.load(open(path))
crit = captured["crit"]; terms, X, y, model = captured["args"]
x = np.asarray(g._engine.record.theta, float)
theta, phi = crit.split(x)
reml = g._engine.reml
print("stored", repr(doc["estimates"]["objective"]))
print("reload value", repr(captured["obj"]))
print("crit.objective", repr(crit.objective(x, reml)))
f = crit.factor_at(phi); f.update(theta)
print("factor_at (whitened)", repr(f.objective(theta, reml)))
print("reported", repr(crit.reported(x, f, reml)))
print("conditioning", conditioning(f, theta), "needs_check", needs_check(terms, X, model, x, f))
lay = crit.layout; span = _spanning(lay)
D = DenseResidual(lay, X, y, span, model)
print("dense", repr(float(D.objective(x, reml))))
c2 = ResidualCriterion(terms, X, y, model, fast=False)
print("fast=False objective", repr(c2.objective(x, reml)))
