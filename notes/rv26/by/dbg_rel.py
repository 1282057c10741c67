"""rv26: h3w by= fit with relabel's refit logged (what the refit returns, at_edge / mapped_back)."""
import warnings, sys
import numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.residual.relabel as rl
import mixedfit.engine.residual.fit as fitmod
orig = rl.relabelled
def spy(fit, terms, X, y, refit, names, max_evals=None):
    def refit2(model):
        s = refit(model)
        print("REFIT: obj", s.objective, "phi", np.round(s.phi, 4), "evals", s.record.evaluations, "conv", s.record.converged, "boundary", (s.boundary or "")[:160], flush=True)
        return s
    print("FIRST: obj", fit.objective, "phi", np.round(fit.phi, 4), "evals", fit.record.evaluations, "conv", fit.record.converged, "vanished", None if fit.vanished is None else np.flatnonzero(fit.vanished), "alone", rl.reference_alone(fit), flush=True)
    out = orig(fit, terms, X, y, refit2, names, max_evals)
    print("OUT: obj", out.objective, "phi", np.round(out.phi, 4), "evals", out.record.evaluations, "conv", out.record.converged, "boundary", (out.boundary or "")[:200], flush=True)
    return out
fitmod.relabelled = spy
d = pd.read_csv(sys.argv[1]); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
print("FINAL", fit.loglik, dict(fit.residual.params), [str(x.message)[:200] for x in w], fit.optimizer.evaluations, fit.optimizer.converged, flush=True)
e = fit._engine; s, th, m = e.sigma, e.theta, e.model
ncor = len(m.correlation.names); ratios = dict(zip(m.variance.names, np.exp(e.phi[ncor:]))); lv = sorted(d.grp.unique())
phis = {n.split(":")[0]: float(u / np.sqrt(1 + u * u)) for n, u in zip(m.correlation.names, e.phi[:ncor])}
import json
json.dump({"by": dict(sd=list(th[:5] * s), rho=float(th[5]), rsd=[ratios.get(g, 1.0) * s for g in lv], phi=[phis[g] for g in lv], loglik=fit.loglik)}, open(sys.argv[2], "w"))
