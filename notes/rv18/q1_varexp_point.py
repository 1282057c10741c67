"""At a point with VarExp per-row spread < DENSE_BELOW beside a spanning term: needs_check vs the
factor path's error (dense numpy reference in q1_varexp.dense_ml)."""
import sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import numpy as np
import mixedfit as mf
import mixedfit.engine.residual.attained as att
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.model import engine_terms
from q1_varexp import data, dense_ml

d = data(-0.3, 20.0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False,
                  residual=mf.AR1("occ", "Subject") & mf.VarExp("w"))
terms = engine_terms(fit._design); X, y, model = fit._design.X, fit._design.y, fit._engine.model
x0 = np.asarray(fit._engine.record.theta, float)
nt = len(x0) - len(fit._engine.phi)
print("x0", x0, dict(fit.residual.params))
crit = ResidualCriterion(terms, X, y, model)
for expon in [-0.5, -0.7, -0.9, -1.2, -1.5]:
    for tscale in [1.0, 100.0]:
        x = x0.copy(); x[nt + 1] = expon; x[0] *= tscale
        phi = x[nt:]
        m = model.variance.multipliers(model.split(phi)[1]); sp = m.min() / m.max()
        factor = crit.factor_at(phi); factor.update(x[:nt])
        rep = crit.reported(x, factor, False)
        nc = att.needs_check(terms, X, model, x, factor)
        p = model.report(phi)
        mine = dense_ml(d, [x[0], x[1]], p["Phi"], p["expon"])
        print(f"expon={expon} theta0x{tscale} spread={sp:.2e} cond={att.conditioning(factor, x[:nt]):.3g} reported={rep:.9f} dense={mine:.9f} "
              f"err={rep-mine:.3g} needs_check={nc} attained_value={att.attained_value(terms,X,y,model,x,False,rep,factor)-mine:.3g}", flush=True)
