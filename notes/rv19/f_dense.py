"""Independent numpy dense ML criterion (no mixedfit) of y ~ x + (1|Subject), residual VarIdent(grp):
V = s2 (tau^2 J + diag(w^2)), w = 1 (a), r (b). Optimized over (log tau, log r) from many starts;
profile max over tau at fixed r for a grid r -> 0."""
import sys, json, numpy as np, pandas as pd
from scipy.optimize import minimize
d = pd.read_csv(f"/tmp/p13/rv19/{sys.argv[1]}.csv"); n = len(d)
X = np.column_stack([np.ones(n), d.x]); y = d.y.values; isb = (d.grp == "b").values
groups = [np.flatnonzero(d.Subject.values == s) for s in pd.unique(d.Subject)]
def m2l(tau, r):
    w2 = np.where(isb, r * r, 1.0); XVX = np.zeros((2, 2)); XVy = np.zeros(2); yVy = 0.0; ld = 0.0
    for g in groups:
        V = tau * tau * np.ones((len(g), len(g))) + np.diag(w2[g]); C = np.linalg.cholesky(V)
        Xw = np.linalg.solve(C, X[g]); yw = np.linalg.solve(C, y[g])
        XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw; ld += 2 * np.log(np.diag(C)).sum()
    beta = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ beta
    return n * (1 + np.log(2 * np.pi * r2 / n)) + ld, beta, np.sqrt(r2 / n)
f = lambda z: m2l(np.exp(z[0]), np.exp(z[1]))[0]
best = None
for lt in (-1, 0, 1, 2): 
    for lr in (-8, -5, -3, -1, 0, 1):
        o = minimize(f, [lt, lr], method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-12, maxiter=20000, maxfev=40000))
        if best is None or o.fun < best.fun: best = o
tau, r = np.exp(best.x)
prof = {}
for lr in [np.log(r), np.log(r) - np.log(10), -10, -15, -20]:
    o = minimize(lambda z: m2l(np.exp(z[0]), np.exp(lr))[0], [best.x[0]], method="Nelder-Mead", options=dict(xatol=1e-12, fatol=1e-13))
    prof[f"{np.exp(lr):.3g}"] = -o.fun / 2
v, beta, s = m2l(tau, r)
print(json.dumps(dict(name=sys.argv[1], loglik=-best.fun / 2, tau=tau, ratio=r, beta=list(beta), sigma=s, profile_loglik=prof)))
