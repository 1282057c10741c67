import sys, numpy as np
sys.path.insert(0, "/tmp/p12/rv16")
from scipy.optimize import minimize
import importlib.util
spec = importlib.util.spec_from_file_location("g", "/tmp/p12/rv16/gen_heldout.py")
src = open("/tmp/p12/rv16/gen_heldout.py").read().split("for seed in range")[0]
ns = {}; exec(src.replace("import sys, warnings, time, numpy as np, pandas as pd, mixedfit as mf", "import numpy as np, pandas as pd"), ns)
seed, sig = int(sys.argv[1]), float(sys.argv[2])
d = ns["gen"](seed, sig)
subs = []
for s, g in d.groupby("Subject"):
    occ = g["occ"].to_numpy() - 1
    subs.append((occ, np.c_[np.ones(len(g)), g["x"].to_numpy()], g["y"].to_numpy(), g["grp"].iloc[0] == "b"))
n = len(d)
def dev(q, which):  # which: variance ratio applies to stratum 'b' (0) or 'a' (1)
    s2 = np.exp(2*q[0]); rho = np.tanh(q[1]); phi = np.tanh(q[2]); w = np.exp(2*q[3])
    XX = np.zeros((2,2)); Xy = np.zeros(2); yy = 0; ld = 0
    for occ, X, y, isb in subs:
        L = np.abs(np.subtract.outer(occ, occ))
        wt = w if (isb if which == 0 else not isb) else 1.0
        V = s2 * rho**L + wt * phi**L
        try: C = np.linalg.cholesky(V)
        except np.linalg.LinAlgError: return 1e10
        ld += 2*np.log(np.diag(C)).sum()
        Xw = np.linalg.solve(C, X); yw = np.linalg.solve(C, y)
        XX += Xw.T@Xw; Xy += Xw.T@yw; yy += yw@yw
    r2 = yy - Xy@np.linalg.solve(XX, Xy)
    return (n-2)*(1+np.log(2*np.pi*r2/(n-2))) + ld + np.linalg.slogdet(XX)[1]
best = (np.inf, None)
for which in (0, 1):
    for st in ([1,0.2,0.3,0],[1,0.5,-0.5,-1],[2,0.1,0.5,-3],[0.5,1.0,-0.8,0.5],[1.5,-0.3,0.2,-6],[1,0.8,-0.2,2]):
        o = minimize(lambda q: dev(q, which), np.array(st,float), method="Nelder-Mead", options={"maxfev":6000,"xatol":1e-9,"fatol":1e-11,"adaptive":True})
        o = minimize(lambda q: dev(q, which), o.x, method="BFGS", options={"gtol":1e-8})
        if o.fun < best[0]: best = (o.fun, which, o.x)
        print(which, st, f"ll {-o.fun/2:.7f}", "x", np.round(o.x, 4), flush=True)
print("BEST ll", -best[0]/2, best[1:])
