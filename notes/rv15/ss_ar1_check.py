import warnings, sys, numpy as np, pandas as pd, mixedfit as mf
sys.path.insert(0, "/work/rv15/tests")
from test_residual_engine import load
ss = load("sleepstudy.csv"); ss["Daysf"] = pd.Categorical(ss["Days"].astype(int).astype(str), categories=[str(i) for i in range(10)])
for reml in (True, False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer("Reaction ~ Days + (Days|Subject)", ss, reml=reml, residual=mf.AR1("Daysf","Subject"))
    print(reml, fit.loglik, fit.singular if hasattr(fit,'singular') else None); print(fit.varcorr); print(fit.residual.params.to_dict(), fit.sigma)
    # dense check
    vc = fit.varcorr
    sd = vc["sdcor"].to_numpy(); print(sd)
    s0, s1, r, sig = sd[0], sd[1], sd[2], fit.sigma
    phi = fit.residual.params["Phi"]
    G = np.array([[s0*s0, r*s0*s1],[r*s0*s1, s1*s1]])
    n = len(ss); X = np.c_[np.ones(n), ss.Days]; y = ss.Reaction.to_numpy()
    XVX = 0; XVy = 0; yVy = 0; ld = 0
    for g, idx in ss.groupby("Subject", observed=True).indices.items():
        t = ss.Days.to_numpy()[idx]; Z = np.c_[np.ones(len(idx)), t]
        V = Z @ G @ Z.T + sig**2 * phi ** np.abs(np.subtract.outer(t, t))
        C = np.linalg.cholesky(V); Xw = np.linalg.solve(C, X[idx]); yw = np.linalg.solve(C, y[idx])
        XVX = XVX + Xw.T @ Xw; XVy = XVy + Xw.T @ yw; yVy += yw @ yw; ld += 2*np.log(np.diag(C)).sum()
    b = np.linalg.solve(XVX, XVy); rss = yVy - XVy @ b
    ll = -0.5*(ld + rss + n*np.log(2*np.pi))
    if reml: ll += -0.5*np.linalg.slogdet(XVX)[1] + 0.5*2*np.log(2*np.pi)
    print("dense ll at reported params (sigma fixed):", ll)
