"""HIGH-1: β̂ and its SEs of the new fit vs the 50-digit GLS β and (X'V⁻¹X)⁻¹σ̂² at the reported
parameters (ML σ̂² = r'V⁻¹r / n)."""
import json, sys, warnings
from decimal import Decimal, getcontext
sys.path.insert(0, "/tmp/p13/rv18")
import numpy as np, pandas as pd
import mixedfit as mf
from q1_exact import chol, fsolve
getcontext().prec = 50
d = pd.read_csv("/tmp/p13/rv18/varexp_case.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarExp("w"))
p = {k: float(v) for k, v in dict(fit.residual.params).items()}
s, rho = (Decimal(float(t)) for t in np.asarray(fit.theta)); Phi, ex = Decimal(p["Phi"]), Decimal(p["expon"])
A = [[Decimal(0)] * 2 for _ in range(2)]; b = [Decimal(0)] * 2; yy = Decimal(0)
for _, g in d.groupby("Subject", sort=False):
    occ = [int(v) for v in g["occ"]]; D = [(ex * Decimal(float(v))).exp() for v in g["w"]]; m = len(occ)
    V = [[s * s * rho ** abs(occ[i] - occ[j]) + D[i] * D[j] * Phi ** abs(occ[i] - occ[j]) for j in range(m)] for i in range(m)]
    L = chol(V)
    X = [[Decimal(1), Decimal(float(v))] for v in g["x"]]; y = [Decimal(float(v)) for v in g["y"]]
    Xw = [fsolve(L, [X[i][c] for i in range(m)]) for c in range(2)]; yw = fsolve(L, y)
    for a in range(2):
        b[a] += sum(Xw[a][i] * yw[i] for i in range(m))
        for c in range(2):
            A[a][c] += sum(Xw[a][i] * Xw[c][i] for i in range(m))
    yy += sum(v * v for v in yw)
det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
beta = [(A[1][1] * b[0] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - A[1][0] * b[0]) / det]
r2 = yy - beta[0] * b[0] - beta[1] * b[1]; s2 = r2 / len(d)
se = [(A[1][1] / det * s2).sqrt(), (A[0][0] / det * s2).sqrt()]
print("mixedfit beta", fit.fixef.to_numpy().tolist(), "se", fit.se.to_numpy().tolist(), "sigma", fit.sigma)
print("exact    beta", [float(v) for v in beta], "se", [float(v) for v in se], "sigma", float(s2.sqrt()))
