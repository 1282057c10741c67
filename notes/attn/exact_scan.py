"""Lane attn: which path is right at large θ? −2ℓ (ML) of v1's model (ar1(0 + occf | Subject)
beside AR1 & VarIdent(grp), ratio 1) in 50-digit decimal arithmetic (per-subject Cholesky, GLS
β, σ² profiled) against the reported path (whitened rows' factor) and the dense blocks, θ's sd
scaled by k. Printed: relative errors of each.
Usage: cd notes/attn && PYTHONPATH=$PWD/../.. python exact_scan.py
"""

from __future__ import annotations

import warnings
from decimal import Decimal, getcontext

import numpy as np
from accuracy import load, set_ar

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.model import engine_terms

getcontext().prec = 50
D = Decimal


def chol(A: list[list[Decimal]]) -> list[list[Decimal]]:
    n = len(A)
    L = [[D(0)] * n for _ in range(n)]
    for j in range(n):
        s = A[j][j] - sum(L[j][k] * L[j][k] for k in range(j))
        L[j][j] = s.sqrt()
        for i in range(j + 1, n):
            L[i][j] = (A[i][j] - sum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return L


def forward(L: list[list[Decimal]], b: list[Decimal]) -> list[Decimal]:
    x: list[Decimal] = []
    for i in range(len(b)):
        x.append((b[i] - sum(L[i][k] * x[k] for k in range(i))) / L[i][i])
    return x


def exact_ml(d, s: float, rho: float, phi: float) -> Decimal:  # type: ignore[no-untyped-def]
    s_, rho_, phi_ = D(s), D(rho), D(phi)
    XVX = [[D(0), D(0)], [D(0), D(0)]]
    XVy, yVy, logdet = [D(0), D(0)], D(0), D(0)
    for _, g in d.groupby("Subject", sort=False):
        k = (g["occ"].to_numpy() - 1).tolist()
        A = [[s_ * s_ * rho_ ** abs(a - b) + phi_ ** abs(a - b) for b in k] for a in k]
        L = chol(A)
        X0 = forward(L, [D(1)] * len(k))
        X1 = forward(L, [D(float(v)) for v in g["x"]])
        yw = forward(L, [D(float(v)) for v in g["y"]])
        cols = [X0, X1]
        for i in range(2):
            XVy[i] += sum(a * b for a, b in zip(cols[i], yw, strict=True))
            for j in range(2):
                XVX[i][j] += sum(a * b for a, b in zip(cols[i], cols[j], strict=True))
        yVy += sum(v * v for v in yw)
        logdet += 2 * sum(L[i][i].ln() for i in range(len(k)))
    det = XVX[0][0] * XVX[1][1] - XVX[0][1] * XVX[1][0]
    b0 = (XVX[1][1] * XVy[0] - XVX[0][1] * XVy[1]) / det
    b1 = (XVX[0][0] * XVy[1] - XVX[1][0] * XVy[0]) / det
    r2 = yVy - (b0 * XVy[0] + b1 * XVy[1])
    n = D(len(d))
    two_pi = 2 * D("3.14159265358979323846264338327950288419716939937510")
    return n * (1 + (two_pi * r2 / n).ln()) + logdet


def main() -> None:
    warnings.simplefilter("ignore")
    d = load("v1")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False,
                  residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    terms = engine_terms(fit._design)
    X, y, model = fit._design.X, fit._design.y, fit._engine.model
    crit = ResidualCriterion(terms, X, y, model)
    dense = DenseResidual(crit.layout, X, y, _spanning(crit.layout), model)
    s0, rho = (float(t) for t in fit._engine.theta)
    for phi_ar in (0.0, 0.99, 0.9999):
        phi = set_ar(model, phi_ar, 1.0)
        phi_used = float(model.report(phi)["Phi"])
        out = []
        for k in (1.0, 100.0, 1e3, 1e4, 1e5):
            x = np.array([s0 * k, rho, *phi])
            ex = exact_ml(d, s0 * k, rho, phi_used)
            rep = D(crit.reported(x, crit.factor_at(phi), False))
            den = D(float(dense.objective(x, False)))
            out.append(f"k={k:g} reported {float(abs(rep - ex) / abs(ex)):.1e} "
                       f"dense {float(abs(den - ex) / abs(ex)):.1e}")
        print(f"phi={phi_ar}: " + "; ".join(out), flush=True)


if __name__ == "__main__":
    main()
