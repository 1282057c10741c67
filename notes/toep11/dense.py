import numpy as np, pandas as pd
from scipy.optimize import minimize
REF = "/work/wt-toep11/tests/reference/cov_rar1_edge3/"
d = pd.read_csv(REF + "rar1_s11.csv").sort_values(["Subject", "occ"])
n = len(d); X = np.c_[np.ones(n), d.x.values]; y = d.y.values; p = 2
S = d.Subject.nunique(); Xs = X.reshape(S, 5, p); ys = y.reshape(S, 5)
L = np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
def pacf_to_acf(pp):
    r = []; ph = np.zeros(0)
    for k, pk in enumerate(pp, 1):
        if k == 1: r.append(pk); ph = np.array([pk]); continue
        rr = np.array(r); v = 1 - ph @ rr
        r.append(ph @ rr[::-1] + pk * v); ph = np.r_[ph - pk * ph[::-1], pk]
    return np.array(r)
def G_of(q):
    s = np.exp(q[:5]); r = np.r_[1, pacf_to_acf(np.tanh(q[5:9]))]
    return np.outer(s, s) * r[L]
def dev(q, phi, reml=True):
    W = G_of(q) + phi ** L
    try: C = np.linalg.cholesky(W)
    except np.linalg.LinAlgError: return 1e10
    Xw = np.linalg.solve(C, Xs.transpose(1, 0, 2).reshape(5, -1)).reshape(5, S, p).transpose(1, 0, 2)
    yw = np.linalg.solve(C, ys.T).T
    XVX = np.einsum("sij,sik->jk", Xw, Xw); XVy = np.einsum("sij,si->j", Xw, yw); yVy = (yw ** 2).sum()
    beta = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ beta
    if not r2 > 0: return 1e10
    logdet = S * 2 * np.log(np.diag(C)).sum()
    if reml: return (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + logdet + np.linalg.slogdet(XVX)[1]
    return n * (1 + np.log(2 * np.pi * r2 / n)) + logdet
if __name__ == "__main__":
    rng = np.random.default_rng(1)
    best = []
    starts = [np.r_[np.log([20, 1, 20, 1, 20]), 3, -0.5, 0.8, -0.5]] + [np.r_[rng.normal(1.5, 1.5, 5), rng.normal(0, 1, 4)] for _ in range(25)]
    for st in starts:
        for ph in (-0.7, -0.3, 0.3, 0.7, 0.9):
            f = lambda x: dev(x[:9], np.tanh(x[9]))
            o = minimize(f, np.r_[st, np.arctanh(ph)], method="Nelder-Mead", options=dict(maxiter=20000, maxfev=20000, xatol=1e-9, fatol=1e-12))
            o = minimize(f, o.x, method="BFGS", options=dict(gtol=1e-8))
            best.append((o.fun, o.x))
    best.sort(key=lambda t: t[0])
    for fun, x in best[:8]:
        print("ll %.8f phi %.6f pacf %s sd %s" % (-fun / 2, np.tanh(x[9]), np.round(np.tanh(x[5:9]), 5), np.round(np.exp(x[:5]), 4)))
    for e in (1.0, -1.0):
        res = []
        for st in starts[:10] + [best[0][1][:9]]:
            o = minimize(lambda x: dev(x, e), st, method="Nelder-Mead", options=dict(maxiter=20000, maxfev=20000, xatol=1e-9, fatol=1e-12))
            o = minimize(lambda x: dev(x, e), o.x, method="BFGS", options=dict(gtol=1e-8)); res.append((o.fun, o.x))
        res.sort(key=lambda t: t[0]); fun, x = res[0]
        print("edge", e, "ll %.8f pacf %s sd %s" % (-fun / 2, np.round(np.tanh(x[5:9]), 5), np.round(np.exp(x[:5]), 4)))
