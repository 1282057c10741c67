"""needs_check with VarExp extreme per-row multipliers beside a spanning term (and (1|S))."""
import sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
import mixedfit.engine.residual.attained as att
from mixedfit.model import engine_terms

def data(delta, wmax, n=60, seed=2):
    rng = np.random.default_rng(seed)
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    F, E = np.linalg.cholesky(0.5**lag), np.linalg.cholesky(0.6**lag)
    rows = []
    for s in range(n):
        b, e = F @ rng.standard_normal(6), E @ rng.standard_normal(6)
        for j in range(6):
            x, w = rng.standard_normal(), rng.uniform(0, wmax)
            y = 1 + 0.5 * x + b[j] + 1.5*np.exp(delta * w) * e[j]
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j+1}", x=x, w=w, y=y))
    d = pd.DataFrame(rows)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d

def dense_ml(d, theta, Phi, delta):
    s, rho = theta
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    G = s**2 * rho**lag
    X = np.column_stack([np.ones(len(d)), d["x"].to_numpy()]); y = d["y"].to_numpy()
    XVX, XVy, yVy, ld = np.zeros((2,2)), np.zeros(2), 0.0, 0.0
    for _, g in d.groupby("Subject", sort=False):
        D = np.diag(np.exp(delta * g["w"].to_numpy()))
        V = G + D @ (Phi**lag) @ D
        C = np.linalg.cholesky(V)
        Xw, yw = np.linalg.solve(C, X[g.index]), np.linalg.solve(C, y[g.index])
        XVX += Xw.T@Xw; XVy += Xw.T@yw; yVy += yw@yw; ld += 2*np.log(np.diag(C)).sum()
    r2 = yVy - XVy @ np.linalg.solve(XVX, XVy); n = len(d)
    return n*(1+np.log(2*np.pi*r2/n)) + ld

if __name__ == "__main__":
  for delta, wmax in [(-0.8, 20.0), (-0.8, 25.0), (-1.0, 25.0), (-0.3, 20.0)]:
      d = data(delta, wmax)
      with warnings.catch_warnings(record=True) as seen:
          warnings.simplefilter("always")
          fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False,
                        residual=mf.AR1("occ", "Subject") & mf.VarExp("w"))
      terms = engine_terms(fit._design); X, y, model = fit._design.X, fit._design.y, fit._engine.model
      x = np.asarray(fit._engine.record.theta, float)
      phi = np.asarray(fit._engine.phi, float)
      mult = model.variance.multipliers(model.split(phi)[1])
      nc = att.needs_check(terms, X, model, x, fit._engine.factor)
      ind = att.independent_objective(terms, X, y, model, x, False)
      p = dict(fit.residual.params)
      mine = dense_ml(d, [float(t) for t in fit.theta], p["Phi"], p["expon"]) if "expon" in p else None
      print(f"delta={delta} wmax={wmax} params={p} spread={mult.min()/mult.max():.3g} "
            f"reported -2l={-2*fit.loglik:.9f} needs_check={nc} dense(indep)={ind:.9f} mine={mine} "
            f"diff={-2*fit.loglik-ind:.3g} evals={fit._engine.record.nfev if hasattr(fit._engine.record,'nfev') else '?'} "
            f"warn={[w.category.__name__+': '+str(w.message)[:80] for w in seen]}", flush=True)
