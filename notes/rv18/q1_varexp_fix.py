"""HIGH-1's proposed fix, monkeypatched: the 'dense blocks reported' shortcut keyed on
variance.spread(part) (what criterion.dense_at keys on), the per-row spread for the TINY rule."""
import sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import numpy as np
import mixedfit as mf
import mixedfit.engine.residual.attained as att
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.reterm import ThetaLayout
from q1_varexp_fit import data
from q1_exact import exact

def needs_check(terms, X, model, x, factor=None):
    if not terms:
        return False
    layout = ThetaLayout(tuple(terms)); x = np.asarray(x, dtype=float)
    theta, phi = x[: layout.size], x[layout.size :]
    spanning = X.shape[0] > X.shape[1] and _spanning(layout) is not None
    own = rows = 1.0
    if model.variance is not None:
        part = model.split(phi)[1]
        own = model.variance.spread(part)
        s = np.asarray(model.variance.multipliers(part), dtype=float)
        rows = min(own, float(s.min() / s.max()) if s.size else 1.0)
    if spanning and own < att.DENSE_BELOW:  # criterion.dense_at's own condition
        return False
    if rows < att.TINY:
        return True
    return spanning and factor is not None and att.conditioning(factor, theta) > att.KAPPA_CHECK

att.needs_check = needs_check
d = data(-0.8, 20, 1e-3, seed=1)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarExp("w"))
p = dict(fit.residual.params)
print("reported", -2 * fit.loglik, "exact", exact(d, *np.asarray(fit.theta), p["Phi"], p["expon"]), fit.converged, [str(w.message)[:160] for w in seen])
