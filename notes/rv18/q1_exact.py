"""Exact (50-digit Decimal) ML -2l of y ~ x + ar1(0+occf|Subject), AR1(occ) & VarExp(w) at given
parameters: V/σ² = s² ρ^|i-j| + D Phi^|i-j| D per subject, D = exp(expon w), β GLS, σ² profiled."""
import json, sys
from decimal import Decimal, getcontext
import pandas as pd
getcontext().prec = 50
PI = Decimal("3.14159265358979323846264338327950288419716939937510")

def chol(A):
    n = len(A); L = [[Decimal(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = A[i][j] - sum((L[i][k] * L[j][k] for k in range(j)), Decimal(0))
            L[i][j] = s.sqrt() if i == j else s / L[j][j]
    return L

def fsolve(L, b):
    n = len(b); z = [Decimal(0)] * n
    for i in range(n):
        z[i] = (b[i] - sum((L[i][k] * z[k] for k in range(i)), Decimal(0))) / L[i][i]
    return z

def exact(d, s, rho, Phi, expon, reml=False):
    s, rho, Phi, expon = (Decimal(float(v)) for v in (s, rho, Phi, expon))
    A = [[Decimal(0)] * 2 for _ in range(2)]; b = [Decimal(0)] * 2; yy = Decimal(0); ld = Decimal(0)
    for _, g in d.groupby("Subject", sort=False):
        occ = [int(v) for v in g["occ"]]; w = [Decimal(float(v)) for v in g["w"]]
        D = [(expon * wi).exp() for wi in w]
        m = len(occ)
        V = [[s * s * rho ** abs(occ[i] - occ[j]) + D[i] * D[j] * Phi ** abs(occ[i] - occ[j])
              for j in range(m)] for i in range(m)]
        L = chol(V)
        ld += 2 * sum(L[i][i].ln() for i in range(m))
        X = [[Decimal(1), Decimal(float(v))] for v in g["x"]]
        y = [Decimal(float(v)) for v in g["y"]]
        Xw = [fsolve(L, [X[i][c] for i in range(m)]) for c in range(2)]
        yw = fsolve(L, y)
        for a in range(2):
            b[a] += sum(Xw[a][i] * yw[i] for i in range(m))
            for c in range(2):
                A[a][c] += sum(Xw[a][i] * Xw[c][i] for i in range(m))
        yy += sum(v * v for v in yw)
    det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
    beta = [(A[1][1] * b[0] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - A[1][0] * b[0]) / det]
    r2 = yy - beta[0] * b[0] - beta[1] * b[1]
    n = len(d); mm = Decimal(n - 2 if reml else n)
    val = mm * (1 + (2 * PI * r2 / mm).ln()) + ld + (det.ln() if reml else 0)
    return float(val)

if __name__ == "__main__":
    d = pd.read_csv(sys.argv[1]); p = json.load(open(sys.argv[2]))
    print(exact(d, p["s"], p["rho"], p["Phi"], p["expon"], p.get("reml", False)))
