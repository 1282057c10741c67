"""Independent numpy dense beta, SE, sigma, l at a near-edge fit's reported parameters (no mixedfit numerics:
mixedfit only fits and hands over theta/phi). V/s2 = t^2 rho^|lag| + w^2 Phi^|lag|, ML."""
import sys, json, warnings, numpy as np, pandas as pd, mixedfit as mf
REF = "/work/wt-rv19/tests/reference/cov_near_edge"; name = sys.argv[1]
d = pd.read_csv(f"{REF}/{name}.csv"); d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.load_fit(f"/tmp/p13/rv19/{name}.fit.json")
t, rho = map(float, np.asarray(fit._engine.theta)); P = fit.residual.params; Phi, r = float(P["Phi"]), float(P["b"])
n = len(d); X = np.column_stack([np.ones(n), d.x.values]); y = d.y.values
XVX = np.zeros((2, 2)); XVy = np.zeros(2); yVy = 0.0; ld = 0.0
for s, g in d.groupby("Subject", sort=False):
    k = g.occ.values; L = np.abs(np.subtract.outer(k, k)); w = r if g.grp.values[0] == "b" else 1.0
    V = t * t * rho ** L + w * w * Phi ** L; C = np.linalg.cholesky(V); i = g.index.values
    Xw = np.linalg.solve(C, X[i]); yw = np.linalg.solve(C, y[i]); XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw; ld += 2 * np.log(np.diag(C)).sum()
beta = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ beta; s2 = r2 / n
se = np.sqrt(np.diag(np.linalg.inv(XVX)) * s2)
print(json.dumps(dict(name=name, dense_loglik=-(n * (1 + np.log(2 * np.pi * s2)) + ld) / 2, mf_loglik=fit.loglik, dense_beta=list(beta), mf_beta=list(map(float, fit.fixef)),
  dense_se=list(se), mf_se=list(map(float, fit.se)), dense_sigma=float(np.sqrt(s2)), mf_sigma=float(fit.sigma))))
