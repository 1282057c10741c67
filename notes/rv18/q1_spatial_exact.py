"""50-digit -2l (ML) of gls(y ~ t) with Spatial(t | id) gaussian/spherical/exponential (+nugget,
nlme's: cor = (1 - nugget) ρ(d) for d > 0) at given parameters: is mixedfit's reported ℓ attained?"""
import sys, json
from decimal import Decimal, getcontext
import pandas as pd
getcontext().prec = 60
sys.path.insert(0, "/tmp/p13/rv18")
from q1_exact import chol, fsolve, PI

def rho(kind, d, r):
    if kind == "gaussian":
        return (-(d / r) ** 2).exp()
    if kind == "exponential":
        return (-(d / r)).exp()
    return (1 - Decimal("1.5") * d / r + Decimal("0.5") * (d / r) ** 3) if d < r else Decimal(0)

def exact(d, kind, r, nug):
    r = Decimal(float(r)); nug = Decimal(float(nug))
    A = [[Decimal(0)] * 2 for _ in range(2)]; b = [Decimal(0)] * 2; yy = Decimal(0); ld = Decimal(0)
    for _, g in d.groupby("id", sort=False):
        t = [Decimal(float(v)) for v in g["t"]]; m = len(t)
        V = [[Decimal(1) if i == j else (1 - nug) * rho(kind, abs(t[i] - t[j]), r) for j in range(m)] for i in range(m)]
        L = chol(V); ld += 2 * sum(L[i][i].ln() for i in range(m))
        X = [[Decimal(1), Decimal(float(v))] for v in g["t"]]; y = [Decimal(float(v)) for v in g["y"]]
        Xw = [fsolve(L, [X[i][c] for i in range(m)]) for c in range(2)]; yw = fsolve(L, y)
        for a in range(2):
            b[a] += sum(Xw[a][i] * yw[i] for i in range(m))
            for c in range(2):
                A[a][c] += sum(Xw[a][i] * Xw[c][i] for i in range(m))
        yy += sum(v * v for v in yw)
    det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
    beta = [(A[1][1] * b[0] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - A[1][0] * b[0]) / det]
    r2 = yy - beta[0] * b[0] - beta[1] * b[1]; n = len(d)
    return -float(n * (1 + (2 * PI * r2 / n).ln()) + ld) / 2

dir = "/work/wt-rv18/tests/reference/cov_spatial_blocks/"
for name, kind, r, nug, rep in [
    ("walk_levels_a", "gaussian", 12471.626605964775, 2.137534504239386e-07, -576.379700217),
    ("walk_levels_b", "gaussian", 3689.013372011375, 1.2284878196168343e-06, -568.928862569),
    ("walk_levels_a", "gaussian", 138140225625.516, 3.76706493125652e-07, -595.443856699564),
    ("walk_levels_b", "gaussian", 19198985046.7785, 2.87310413400072e-06, -601.35835903636),
    ("walk_levels_a", "spherical", 16932834.417740814, 3.404625658042932e-08, -565.079468812),
]:
    d = pd.read_csv(dir + name + ".csv")
    print(name, kind, r, nug, "reported", rep, "exact", exact(d, kind, r, nug), flush=True)
