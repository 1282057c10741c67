"""50-digit Decimal -2l of gls(y ~ x) with V = D R D per group g: R = Phi^|t_i - t_j| (AR1 on
integer t, or CAR1: the same formula on t), D = δ_s (A = 1) × v^power (if 'power' given)."""
from decimal import Decimal, getcontext
getcontext().prec = 50
PI = Decimal("3.14159265358979323846264338327950288419716939937510")
from q1_exact import chol, fsolve

def exact(d, p, reml):
    D_ = lambda v: Decimal(float(v))
    Phi = D_(p["Phi"]) if "Phi" in p else None
    delta = {s: D_(p.get(s, 1.0)) for s in "ABC"}
    pw = D_(p["power"]) if "power" in p else None
    A = [[Decimal(0)] * 2 for _ in range(2)]; b = [Decimal(0)] * 2; yy = Decimal(0); ld = Decimal(0)
    for _, g in d.groupby("g", sort=False):
        t = [int(v) for v in g["t"]]; m = len(t)
        Dd = [delta[s] * ((D_(v).ln() * pw).exp() if pw is not None else 1) for s, v in zip(g["s"], g["v"])]
        V = [[Dd[i] * Dd[j] * (Phi ** abs(t[i] - t[j]) if Phi is not None else Decimal(int(i == j)))
              for j in range(m)] for i in range(m)]
        L = chol(V); ld += 2 * sum(L[i][i].ln() for i in range(m))
        X = [[Decimal(1), D_(v)] for v in g["x"]]; y = [D_(v) for v in g["y"]]
        Xw = [fsolve(L, [X[i][c] for i in range(m)]) for c in range(2)]; yw = fsolve(L, y)
        for a in range(2):
            b[a] += sum(Xw[a][i] * yw[i] for i in range(m))
            for c in range(2):
                A[a][c] += sum(Xw[a][i] * Xw[c][i] for i in range(m))
        yy += sum(v * v for v in yw)
    det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
    beta = [(A[1][1] * b[0] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - A[1][0] * b[0]) / det]
    r2 = yy - beta[0] * b[0] - beta[1] * b[1]
    n = len(d); mm = Decimal(n - 2 if reml else n)
    return float(mm * (1 + (2 * PI * r2 / mm).ln()) + ld + (det.ln() if reml else 0))
