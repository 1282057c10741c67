"""The exact reference of tests/test_gls_tiny_ratio.py: −2ℓ of gls(y ~ x, VarIdent(s)) on the
stored data, evaluated in 50-digit decimal arithmetic (no float rounding of the residuals),
maximized over the two log ratios (A the reference stratum; σ profiled).

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
    print(json.dumps(out, indent=1))
