"""The exact reference of tests/test_gls_tiny_ratio.py: −2ℓ of gls(y ~ x, VarIdent(s)) on the
stored data, evaluated in 50-digit decimal arithmetic (no float rounding of the residuals),
maximized over the two log ratios (A the reference stratum; σ profiled); and with
residual=AR1("t", "g") & VarIdent("s") on gls_1e12 (``criterion_ar1``, maximized over φ too).

    −2ℓ_ML   = n log(2π σ̂²) + log|Λ| + n,                σ̂² = r'Λ⁻¹r / n
    −2ℓ_REML = (n−p) log(2π σ̂²) + log|Λ| + log|X'Λ⁻¹X| + (n−p),  σ̂² = r'Λ⁻¹r / (n−p)

(nlme's scale; Λ = diag(δ_s²)). Made by lane tiny3 (session 13): the data are simulate()d sets
with stratum B's sd 1e-12 / 1e-9 of A's (C 1.5). Run: python dense_decimal.py > gls_tiny_ratio.json
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

getcontext().prec = 50
HERE = Path(__file__).parent


def criterion(d: pd.DataFrame, ratios: dict[str, float], reml: bool) -> float:
    """−2ℓ at the VarIdent ratios (relative to A), σ and β profiled, in Decimal."""
    x = [Decimal(float(v)) for v in d["x"]]
    y = [Decimal(float(v)) for v in d["y"]]
    w = [1 / Decimal(ratios[s]) ** 2 for s in d["s"]]
    n, p = len(y), 2
    s0, s1, s2 = (
        sum(w),
        sum(a * b for a, b in zip(w, x, strict=True)),
        sum(a * b * b for a, b in zip(w, x, strict=True)),
    )
    t0, t1 = (
        sum(a * b for a, b in zip(w, y, strict=True)),
        sum(a * b * c for a, b, c in zip(w, x, y, strict=True)),
    )
    det = s0 * s2 - s1 * s1
    b0, b1 = (s2 * t0 - s1 * t1) / det, (s0 * t1 - s1 * t0) / det
    rss = sum(
        a * (c - b0 - b1 * b) ** 2 for a, b, c in zip(w, x, y, strict=True)
    )  # residuals formed exactly
    logdet = -sum(a.ln() for a in w)
    m = Decimal(n - p if reml else n)
    two_pi = 2 * Decimal("3.14159265358979323846264338327950288419716939937510")
    value = m * (two_pi * rss / m).ln() + logdet + m + (det.ln() if reml else 0)
    return float(value)


def _chol(A: list[list[Decimal]]) -> list[list[Decimal]]:
    n = len(A)
    L = [[Decimal(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = A[i][j] - sum((L[i][k] * L[j][k] for k in range(j)), Decimal(0))
            L[i][j] = s.sqrt() if i == j else s / L[j][j]
    return L


def _solve(L: list[list[Decimal]], b: list[Decimal]) -> list[Decimal]:
    z: list[Decimal] = []
    for i in range(len(L)):
        z.append((b[i] - sum((L[i][k] * z[k] for k in range(i)), Decimal(0))) / L[i][i])
    return z


def criterion_ar1(d: pd.DataFrame, phi: float, ratios: dict[str, float], reml: bool) -> float:
    """−2ℓ with residual=AR1("t", "g") & VarIdent("s"): Λ_g = D C D, C_ij = φ^|t_i − t_j|,
    by each group's Cholesky factor in Decimal (X = [1, x])."""
    ph = Decimal(phi)
    XtX = [[Decimal(0)] * 2 for _ in range(2)]
    Xty, yty, logdet = [Decimal(0)] * 2, Decimal(0), Decimal(0)
    for _, g in d.groupby("g", sort=True):
        dl = [Decimal(ratios[s]) for s in g["s"]]
        t = [int(v) for v in g["t"]]
        m = len(dl)
        H = [
            [dl[i] * dl[j] * (Decimal(1) if i == j else ph ** abs(t[i] - t[j])) for j in range(m)]
            for i in range(m)
        ]
        L = _chol(H)
        logdet += sum((2 * L[i][i].ln() for i in range(m)), Decimal(0))
        wy = _solve(L, [Decimal(float(v)) for v in g["y"]])
        wX = [_solve(L, [Decimal(1)] * m), _solve(L, [Decimal(float(v)) for v in g["x"]])]
        for a in range(2):
            Xty[a] += sum((u * v for u, v in zip(wX[a], wy, strict=True)), Decimal(0))
            for b in range(2):
                XtX[a][b] += sum((u * v for u, v in zip(wX[a], wX[b], strict=True)), Decimal(0))
        yty += sum((v * v for v in wy), Decimal(0))
    Lx = _chol(XtX)
    z = _solve(Lx, Xty)
    rss = yty - sum((v * v for v in z), Decimal(0))  # 50 digits: the cancellation (~1e24) is exact
    n, p = len(d), 2
    m = Decimal(n - p if reml else n)
    two_pi = 2 * Decimal("3.14159265358979323846264338327950288419716939937510")
    ldx = sum((2 * Lx[i][i].ln() for i in range(p)), Decimal(0))
    return float(m * (two_pi * rss / m).ln() + logdet + m + (ldx if reml else 0))


def supremum_ar1(d: pd.DataFrame, reml: bool) -> dict[str, float]:
    """The maximum over (atanh φ, log δ_B, log δ_C) from (−0.17, 1e-12, 1.5) (Nelder–Mead)."""

    def fun(z: np.ndarray) -> float:
        ratios = {"A": 1.0, "B": math.exp(z[1]), "C": math.exp(z[2])}
        return criterion_ar1(d, math.tanh(z[0]), ratios, reml)

    z0 = np.array([math.atanh(-0.17), math.log(1.1e-12), math.log(1.5)])
    options = {"xatol": 1e-7, "fatol": 1e-11, "maxfev": 1500}
    found = minimize(fun, z0, method="Nelder-Mead", options=options)
    found = minimize(fun, found.x, method="Nelder-Mead", options=options)
    return {
        "loglik": -found.fun / 2,
        "phi": math.tanh(found.x[0]),
        "ratio_B": math.exp(found.x[1]),
        "ratio_C": math.exp(found.x[2]),
    }


def supremum(d: pd.DataFrame, reml: bool) -> dict[str, float]:
    """The maximum over (log δ_B, log δ_C) from the true ratios (Nelder–Mead, 50-digit
    criterion)."""
    true_b = 1e-12 if float(d.attrs["sdB"]) == 1e-12 else 1e-9

    def fun(z: np.ndarray) -> float:
        return criterion(d, {"A": 1.0, "B": math.exp(z[0]), "C": math.exp(z[1])}, reml)

    found = minimize(
        fun,
        np.log([true_b, 1.5]),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-12, "maxfev": 2000},
    )
    again = minimize(
        fun, found.x, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-13, "maxfev": 2000}
    )
    best = again if again.fun < found.fun else found
    return {
        "loglik": -best.fun / 2,
        "ratio_B": math.exp(best.x[0]),
        "ratio_C": math.exp(best.x[1]),
    }


if __name__ == "__main__":
    out = {}
    for name, sd in (("gls_1e12", 1e-12), ("gls_1e9", 1e-9)):
        d = pd.read_csv(HERE / f"{name}.csv")
        d.attrs["sdB"] = sd
        out[name] = {("REML" if reml else "ML"): supremum(d, reml) for reml in (True, False)}
    d = pd.read_csv(HERE / "gls_1e12.csv")
    out["gls_1e12_ar1"] = {("REML" if r else "ML"): supremum_ar1(d, r) for r in (True, False)}
    print(json.dumps(out, indent=1))
