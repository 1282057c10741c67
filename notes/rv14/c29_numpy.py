"""c29: the ML log-likelihood at mixedfit's reported parameters by dense numpy (V per subject, GLS β, σ profiled)."""
import json, sys
import numpy as np
sys.path.insert(0, "/tmp/p12/stress")
from fit_mf import load

def ll_ml(d, s, rho, phi, ratio_b, ref="a"):
    X = np.column_stack([np.ones(len(d)), d["x"].to_numpy()]); y = d["y"].to_numpy()
    XVX = np.zeros((2, 2)); XVy = np.zeros(2); yVy = 0.0; logdet = 0.0
    for _, g in d.groupby("Subject", sort=False):
        k = g["occ"].to_numpy(); L = np.abs(np.subtract.outer(k, k))
        r = 1.0 if g["grp"].iloc[0] == ref else ratio_b
        W = s**2 * rho**L + r**2 * phi**L
        C = np.linalg.cholesky(W)
        Xw = np.linalg.solve(C, X[g.index]); yw = np.linalg.solve(C, y[g.index])
        XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw; logdet += 2 * np.log(np.diag(C)).sum()
    beta = np.linalg.solve(XVX, XVy); r2 = yVy - XVy @ beta; n = len(d)
    return -0.5 * (n * (1 + np.log(2 * np.pi * r2 / n)) + logdet)

spec = {s["name"]: s for s in json.load(open("/tmp/p12/stress/data/specs_24.json"))}["c29"]
d = load(spec)
print("original mf point (b 0.01118):", ll_ml(d, 2.200503994242169, 0.15556639170110892, 0.0969474746025519, 0.011183752492492033), "mf says -650.2097120521")
print("perm1 mf point (b 3.66e-14):  ", ll_ml(d, 2.2747, 0.1551, 0.09912931013565653, 3.66e-14), "mf says -650.15439088")
print("b-first mf point (old b 3.9e-15):", ll_ml(d, 2.1984, 0.1533, 0.11339943636319703, 3.9e-15), "mf says -649.82736178")
print("R best point:                 ", ll_ml(d, 0.204514, np.tanh(10.2311392098334), 0.11145, 0.891305), "R says -649.951968")
