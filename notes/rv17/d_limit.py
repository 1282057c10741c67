"""Finding 1: data D's supremum with stratum a's residual variance exactly 0 (numpy dense REML, σ² = c's,
scipy from R's best point), to compare with R's −311.707303834 (a at 8.9e-5) and mixedfit's fits."""
import json, numpy as np, pandas as pd
from scipy.optimize import minimize
d = pd.read_csv("/tmp/p13/rv17/data/g3_D.csv")
K = 5; lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
X = np.column_stack([np.ones(len(d)), d.x.to_numpy()]); y = d.y.to_numpy()
subs = [(g.occ.to_numpy() - 1, g.index.to_numpy(), g.grp.iloc[0]) for _, g in d.groupby("Subject")]
def dev(q, reml=True, wa=0.0):
    s = np.exp(q[:K]); rho = np.tanh(q[K]); phi = np.tanh(q[K + 1]); rb = np.exp(2 * q[K + 2])
    G = np.outer(s, s) * rho ** lag
    n, p = X.shape; XVX = np.zeros((p, p)); XVy = np.zeros(p); yVy = 0.0; ld = 0.0
    for k, idx, g in subs:
        w = {"a": wa, "b": rb, "c": 1.0}[g]
        try:
            C = np.linalg.cholesky(G[np.ix_(k, k)] + w * phi ** lag[np.ix_(k, k)])
        except np.linalg.LinAlgError:
            return 1e10
        Xw = np.linalg.solve(C, X[idx]); yw = np.linalg.solve(C, y[idx])
        XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw; ld += 2 * np.log(np.diag(C)).sum()
    b = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ b
    return (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + ld + np.linalg.slogdet(XVX)[1]
r = json.load(open("/tmp/p13/rv17/r/g3_D_REML.json"))["scale_c"]
q0 = np.r_[np.log(r["sd_rel"]), np.arctanh(r["rho"]), np.arctanh(r["phi"]), r["log_ratio"][1]]
print("R's point, a at its ratio:", -dev(q0, wa=np.exp(2 * r["log_ratio"][0])) / 2, " same point with a exactly 0:", -dev(q0) / 2)
o = minimize(dev, q0, method="BFGS", options={"gtol": 1e-9})
o = minimize(dev, o.x, method="Nelder-Mead", options={"maxfev": 4000, "xatol": 1e-10, "fatol": 1e-13, "adaptive": True})
print("partial limit (a's variance exactly 0) REML ll: %.9f" % (-o.fun / 2), "phi %.5f" % np.tanh(o.x[K + 1]))
