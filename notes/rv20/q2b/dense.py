"""rv20 Q2b: independent numpy dense REML/ML for y ~ x + (x|Subject) + sigma^2 r_g^2 AR1(time) (optional VarIdent grp),
sigma profiled; multistart Nelder-Mead -> Powell -> BFGS. Usage: dense.py NAME reml|ml vi|novi"""
import sys, json, numpy as np, pandas as pd
from scipy.optimize import minimize
name, meth, vi = sys.argv[1], sys.argv[2], sys.argv[3] == "vi"
d = pd.read_csv(f"{name}.csv"); reml = meth == "reml"
ref = d["grp"].iloc[0]  # nlme's reference: first row's level (sorted by Subject; s000 first)
subs = []
for _, g in d.groupby("Subject", sort=True):
    t = g["time"].to_numpy() - 1; X = np.column_stack([np.ones(len(g)), g["x"].to_numpy()])
    subs.append((t, X, X.copy(), g["y"].to_numpy(), g["grp"].iloc[0] != ref))
n, p = len(d), 2
def dev(par):
    L = np.array([[par[0], 0.0], [par[1], par[2]]]); G = L @ L.T; phi = np.tanh(par[3])
    r2 = np.exp(2 * par[4]) if vi else 1.0
    XVX = np.zeros((2, 2)); XVy = np.zeros(2); yVy = 0.0; ld = 0.0
    for t, X, Z, y, isb in subs:
        W = Z @ G @ Z.T + (r2 if isb else 1.0) * phi ** np.abs(np.subtract.outer(t, t))
        try: C = np.linalg.cholesky(W)
        except np.linalg.LinAlgError: return 1e10
        Xw = np.linalg.solve(C, X); yw = np.linalg.solve(C, y)
        XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw; ld += 2 * np.log(np.diag(C)).sum()
    beta = np.linalg.solve(XVX, XVy); r = yVy - XVy @ beta
    if not r > 0: return 1e10
    if reml:
        return (n - p) * (1 + np.log(2 * np.pi * r / (n - p))) + ld + np.linalg.slogdet(XVX)[1]
    return n * (1 + np.log(2 * np.pi * r / n)) + ld
rng = np.random.default_rng(1); best = None
starts = [np.array([a, b, c, e, 0.0]) for a in (0.5, 2.0) for b in (-0.5, 0.5) for c in (0.01, 1.0) for e in (-1.0, 0.0, 1.0)]
starts += [rng.normal(0, 1, 5) for _ in range(6)]
for st in starts:
    o = minimize(dev, st, method="Nelder-Mead", options=dict(maxiter=20000, maxfev=20000, xatol=1e-10, fatol=1e-13))
    o = minimize(dev, o.x, method="Powell", options=dict(xtol=1e-10, ftol=1e-14, maxfev=50000))
    o2 = minimize(dev, o.x, method="BFGS", options=dict(gtol=1e-9))
    if o2.fun < o.fun: o = o2
    if best is None or o.fun < best.fun: best = o
print(json.dumps(dict(name=name, loglik=-best.fun / 2, par=best.x.tolist(), phi=float(np.tanh(best.x[3])))))
