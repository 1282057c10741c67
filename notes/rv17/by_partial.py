"""Q1: AR1(by=grp) beside ar1(0 + occf | Subject): stratum a's residual noise is 0 in the data (seed 3 of
crossed.py's generator, column y2). Does the supremum lie at the partial limit (a's residual variance 0,
b's stays), which partial.py (VarIdent only) does not try for by= strata? Dense numpy criterion
(independent), maximized by scipy from many starts, full model and partial limit."""
import warnings, sys
import numpy as np, pandas as pd
from scipy.optimize import minimize
import mixedfit as mf
exec(open("/tmp/p13/rv17/crossed.py").read().split("for seed, sd_a in")[0])
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 3
sd_a = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
d = gen(seed, sd_a)
K = 5; lag = np.abs(np.subtract.outer(np.arange(K), np.arange(K)))
X = np.column_stack([np.ones(len(d)), d.x.to_numpy()]); y = d.y2.to_numpy()
subs = [(g.occ.to_numpy() - 1, g.index.to_numpy(), g.grp.iloc[0]) for _, g in d.groupby("Subject")]

def dev(q, reml, wa=None):
    """q = (log s, atanh rho, atanh phi_a, atanh phi_b, log ratio_b) relative to a's sd; wa=0: a's residual 0
    (then q[4] is unused and sigma^2 is b's)."""
    s = np.exp(q[0]); rho = np.tanh(q[1]); pa = np.tanh(q[2]); pb = np.tanh(q[3])
    G = s * s * rho ** lag
    n, p = X.shape; XVX = np.zeros((p, p)); XVy = np.zeros(p); yVy = 0.0; ld = 0.0
    for k, idx, g in subs:
        if wa == 0:
            R = (0.0 if g == "a" else 1.0) * pb ** lag[np.ix_(k, k)]
        else:
            R = pa ** lag[np.ix_(k, k)] if g == "a" else np.exp(2 * q[4]) * pb ** lag[np.ix_(k, k)]
        try:
            C = np.linalg.cholesky(G[np.ix_(k, k)] + R)
        except np.linalg.LinAlgError:
            return 1e10
        Xw = np.linalg.solve(C, X[idx]); yw = np.linalg.solve(C, y[idx])
        XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw; ld += 2 * np.log(np.diag(C)).sum()
    b = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ b
    if not r2 > 0:
        return 1e10
    if reml:
        return (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p))) + ld + np.linalg.slogdet(XVX)[1]
    return n * (1 + np.log(2 * np.pi * r2 / n)) + ld

def best(f, starts):
    out = (np.inf, None)
    for st in starts:
        o = minimize(f, st, method="Nelder-Mead", options={"maxfev": 6000, "xatol": 1e-9, "fatol": 1e-12, "adaptive": True})
        o = minimize(f, o.x, method="BFGS", options={"gtol": 1e-8})
        if o.fun < out[0]:
            out = (o.fun, o.x)
    return out

rng = np.random.default_rng(0)
for reml in (True, False):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        f = mf.lmer("y2 ~ x + ar1(0 + occf | Subject)", d, reml=reml, residual=mf.AR1("occ", "Subject", by="grp"))
    prm = dict(f.residual.params); th = np.asarray(f.theta, float)
    q = np.array([np.log(th[0]), np.arctanh(th[1]), np.arctanh(float(prm["a:Phi"])), np.arctanh(float(prm["b:Phi"])), np.log(float(prm["b"]))])
    print(f"seed {seed} sd_a {sd_a} {'REML' if reml else 'ML'}: mixedfit ll {f.loglik:.8f} (dense at its params {-dev(q, reml) / 2:.8f}) params {prm} theta {th} evals {f.optimizer.evaluations}")
    for w in seen:
        print("   W", w.category.__name__, str(w.message)[:150])
    starts = [q] + [np.array([np.log(sd), np.arctanh(r), 0.3, 0.3, lr]) for sd in (0.5, 2, 10) for r in (0.3, 0.8) for lr in (-3, 0, 3)]
    full = best(lambda z: dev(z, reml), starts)
    pstarts = [np.array([np.log(sd), np.arctanh(r), 0.0, pb, 0.0]) for sd in (0.5, 2, 5) for r in (0.3, 0.6, 0.9) for pb in (-0.5, 0.3)]
    part = best(lambda z: dev(z, reml, wa=0), pstarts)
    print(f"   dense full-model best {-full[0] / 2:.8f} (log ratio b {full[1][4]:.3f}, phi_a {np.tanh(full[1][2]):.4f}, phi_b {np.tanh(full[1][3]):.4f})")
    print(f"   dense partial limit (a's residual 0) best {-part[0] / 2:.8f} (s {np.exp(part[1][0]):.4f} rho {np.tanh(part[1][1]):.4f} phi_b {np.tanh(part[1][3]):.4f})")
    sys.stdout.flush()
