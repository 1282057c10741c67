import sys
sys.path.insert(0, "/work/rv16/tests")
import numpy as np
import test_varident_partial_limit as T
from scipy.optimize import minimize
d = T._data().sort_values(["Subject", "occ"]); K = 5
is_b = (d.groupby("Subject", sort=True)["grp"].first() == "b").to_numpy()
Y = d["y"].to_numpy().reshape(-1, K); Xs = np.stack([np.ones_like(Y), d["x"].to_numpy().reshape(-1, K)], -1)
n = Y.size; lags = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
def dev(q, ra=None):
    s = np.exp(q[:K]); G = np.outer(s, s) * np.tanh(q[K]) ** lags
    R = np.tanh(q[K + 1]) ** lags
    w = np.where(is_b, 1.0, 0.0) if ra is None else np.where(is_b, 1.0, ra)
    V = G[None] + w[:, None, None] * R[None]
    try: C = np.linalg.cholesky(V)
    except np.linalg.LinAlgError: return 1e10
    ld = 2 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum()
    Xw = np.linalg.solve(C, Xs); yw = np.linalg.solve(C, Y[..., None])[..., 0]
    XVX = np.einsum("ski,skj->ij", Xw, Xw); XVy = np.einsum("ski,sk->i", Xw, yw)
    r2 = (yw**2).sum() - XVy @ np.linalg.solve(XVX, XVy)
    return float(n * (1 + np.log(2 * np.pi * r2 / n)) + ld)
best = np.inf
for st in (np.r_[np.full(K, 3.0), 0.8, -0.5], np.r_[np.zeros(K), 0.5, 0.5], np.r_[np.full(K, 1.0), 0.3, 0.0]):
    o = minimize(dev, st, method="Nelder-Mead", options={"maxfev": 8000, "xatol": 1e-10, "fatol": 1e-13, "adaptive": True})
    o = minimize(dev, o.x, method="BFGS", options={"gtol": 1e-9}); best = min(best, o.fun)
print("ML partial limit (a's variance 0) loglik", -best / 2)
# full model with a's ratio free (ra = δ_a^2 relative to b): interior better?
best2 = np.inf
for st in (np.r_[np.full(K, 3.0), 0.8, -0.5, -2], np.r_[np.zeros(K), 0.5, 0.5, 0.0]):
    f = lambda q: dev(q[:-1], np.exp(q[-1]))
    o = minimize(f, st, method="Nelder-Mead", options={"maxfev": 20000, "xatol": 1e-10, "fatol": 1e-13, "adaptive": True})
    o = minimize(f, o.x, method="BFGS", options={"gtol": 1e-9}); best2 = min(best2, o.fun); print(" interior trial", -o.fun/2, "log ratio", o.x[-1])
print("ML full model sup over tried starts", -best2 / 2)
