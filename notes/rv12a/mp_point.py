"""rv12a: exact (mpmath, 30 digits) REML/ML criterion of the crossed model at a point."""
import sys
import mpmath as mp
import csv
mp.mp.dps = 30
if __name__ == "__main__":
    rows = list(csv.DictReader(open(sys.argv[1]))); r = mp.mpf(sys.argv[2]); t1, t2 = mp.e ** mp.mpf(sys.argv[3]), mp.e ** mp.mpf(sys.argv[4])
    n = len(rows); S = [q["subject"] for q in rows]; I = [q["item"] for q in rows]; st = [q["stratum"] for q in rows]; xs = [q["x"] for q in rows]; ys = [q["y"] for q in rows]
    V = mp.matrix(n, n)
    for a in range(n):
        for b in range(n):
            v = (t1**2 if S[a] == S[b] else 0) + (t2**2 if I[a] == I[b] else 0)
            if a == b:
                v += (r**2 if st[a] == "B" else 1)
            V[a, b] = v
    X = mp.matrix([[1, 1 if s == "B" else 0, mp.mpf(x)] for s, x in zip(st, xs)])
    y = mp.matrix([mp.mpf(v) for v in ys])
    L = mp.cholesky(V)
    Xw = mp.lu_solve(L, X) if False else None
    # forward solves column by column
    def fwd(b):
        out = mp.matrix(n, 1)
        for i in range(n):
            s = b[i]
            for k in range(i):
                s -= L[i, k] * out[k]
            out[i] = s / L[i, i]
        return out
    cols = [fwd(X.column(j)) for j in range(3)]; yw = fwd(y)
    XtX = mp.matrix(3, 3); Xty = mp.matrix(3, 1)
    for i in range(3):
        Xty[i] = sum(cols[i][k] * yw[k] for k in range(n))
        for j in range(3):
            XtX[i, j] = sum(cols[i][k] * cols[j][k] for k in range(n))
    beta = mp.lu_solve(XtX, Xty)
    r2 = sum(yw[k] ** 2 for k in range(n)) - sum(Xty[i] * beta[i] for i in range(3))
    ld = 2 * sum(mp.log(L[i, i]) for i in range(n)); p = 3
    reml = (n - p) * (1 + mp.log(2 * mp.pi * r2 / (n - p))) + ld + mp.log(mp.det(XtX))
    ml = n * (1 + mp.log(2 * mp.pi * r2 / n)) + ld
    print("reml", mp.nstr(reml, 20), "ml", mp.nstr(ml, 20))
