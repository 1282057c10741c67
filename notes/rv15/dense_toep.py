"""rv15: independent dense REML/ML criterion of y ~ x + toep(0+occf|Subject) (PACF box, as mixedfit's toep and
rar1_dense_toep_pacf.R) + sigma^2 AR1(phi) residual; multistart maximisation inside, at phi = +-1 and at the
sigma -> 0 limit. Usage: dense_toep.py data.csv reml|ml [nstarts]. Complete 5-visit subjects assumed (rar1 generator)."""
import sys, json
import numpy as np, pandas as pd
from scipy.optimize import minimize
d = pd.read_csv(sys.argv[1]); reml = sys.argv[2] == "reml"; nst = int(sys.argv[3]) if len(sys.argv) > 3 else 30
d = d.sort_values(["Subject", "occ"]); K = 5
Y = d["y"].to_numpy().reshape(-1, K); Xs = np.stack([np.ones_like(Y), d["x"].to_numpy().reshape(-1, K)], -1)
m, n, p = Y.shape[0], Y.size, 2
L = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
def pacf_to_acf(pp):
    r = np.zeros(len(pp)); ph = np.zeros(0)
    for k in range(len(pp)):
        if k == 0: r[0] = pp[0]; ph = np.array([pp[0]]); continue
        v = 1 - ph @ r[:k]
        r[k] = ph @ r[k-1::-1] + pp[k] * v
        ph = np.r_[ph - pp[k] * ph[::-1], pp[k]]
    return r
def dev(q, phi, w):
    s = np.exp(q[:5]); r = np.r_[1, pacf_to_acf(np.tanh(q[5:9]))]
    W = np.outer(s, s) * r[L] + w * phi ** L
    try: C = np.linalg.cholesky(W)
    except np.linalg.LinAlgError: return 1e10
    ld = 2 * np.log(np.diag(C)).sum() * m
    Xw = np.linalg.solve(C, Xs.transpose(1, 0, 2).reshape(K, -1)).reshape(K, m, p).transpose(1, 0, 2)
    yw = np.linalg.solve(C, Y.T).T
    XVX = np.einsum("ski,skj->ij", Xw, Xw); XVy = np.einsum("ski,sk->i", Xw, yw); yVy = (yw ** 2).sum()
    try: b = np.linalg.solve(XVX, XVy)
    except np.linalg.LinAlgError: return 1e10
    r2 = yVy - XVy @ b
    if not r2 > 0: return 1e10
    if reml: return (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + ld + np.linalg.slogdet(XVX)[1]
    return n * (1 + np.log(2 * np.pi * r2 / n)) + ld
def best(f, starts, k):
    bv, bx = np.inf, None
    for st in starts:
        for meth in ("Nelder-Mead", "BFGS"):
            x0 = st if bx is None or meth == "Nelder-Mead" else st
            try:
                o = minimize(f, x0, method="Nelder-Mead", options=dict(maxiter=6000, maxfev=6000, xatol=1e-9, fatol=1e-12, adaptive=True))
                o = minimize(f, o.x, method="BFGS", options=dict(gtol=1e-9, maxiter=2000))
            except Exception:
                continue
            if o.fun < bv: bv, bx = o.fun, o.x
            break
    return bv, bx
rng = np.random.default_rng(15)
base = [np.r_[np.zeros(5), 0.3 * np.ones(4)], np.r_[np.log(np.array([1, .05, 1, .05, 1]) * 20), 0.6 * np.ones(4)],
        np.r_[np.log(np.array([1, .05, 1, .05, 1]) * 20), 3, -0.5, 0.8, -0.5]]
starts = base + [np.r_[rng.normal(1.5, 1.5, 5), rng.normal(0, 1, 4)] for _ in range(nst)]
res = {}
fi = lambda x: dev(x[:9], np.tanh(x[9]), 1.0)
allst = [np.r_[s, np.arctanh(ph)] for s in starts for ph in (-0.7, 0.3, 0.9)]
v, x = best(fi, allst, 10)
res["interior"] = -v / 2; res["interior_phi"] = float(np.tanh(x[9])); res["interior_pacf"] = np.tanh(x[5:9]).tolist(); res["interior_sd"] = np.exp(x[:5]).tolist()
for e in (1.0, -1.0):
    ve, xe = best(lambda q: dev(q, e, 1.0), starts + [x[:9]], 9)
    res[f"edge{e:+.0f}"] = -ve / 2; res[f"edge{e:+.0f}_pacf"] = np.tanh(xe[5:9]).tolist()
vl, xl = best(lambda q: dev(q, 0.0, 0.0), starts, 9)
res["limit"] = -vl / 2
res["best"] = max(res["interior"], res["edge+1"], res["edge-1"], res["limit"])
print(json.dumps(res))
