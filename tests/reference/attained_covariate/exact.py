"""The exact reference of tests/test_residual_attained_covariate.py (review rv18 HIGH-1, its
q1_exact.py): the ML −2ℓ of ``y ~ x + ar1(0 + occf | Subject)`` with
``residual=AR1("occ", "Subject") & VarExp("w")`` (or ``& VarPower("v")``) at given parameters,
in 50-digit decimal arithmetic, without mixedfit:

    V / σ² = s² ρ^|i−j| + d_i d_j Φ^|i−j|  per subject,  d = exp(expon · w)  or  v^power,
    −2ℓ_ML = n (1 + log(2π r²/n)) + log|V/σ²|,  r² = y'V⁻¹y − b'(X'V⁻¹X)⁻¹b  (nlme's scale).

The data (case.csv) are rv18's ``q1_varexp_fit.data(-0.8, 20, 1e-3, seed=1)`` (60 subjects × 6
visits, the ar1 term's sd 1e-3, the residual sd exp(−0.8 w), w ~ U(0, 20)) with v = exp(w):
VarPower on v is the same model as VarExp on w. Run: ``python exact.py > attained_covariate.json``
(the parameters are the fits' reported ones on session 13's code, lane rvfix).
"""

from __future__ import annotations

import json
from decimal import Decimal, getcontext
from pathlib import Path

import pandas as pd

getcontext().prec = 50
HERE = Path(__file__).parent
PI = Decimal("3.14159265358979323846264338327950288419716939937510")


def _chol(A: list[list[Decimal]]) -> list[list[Decimal]]:
    n = len(A)
    L = [[Decimal(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = A[i][j] - sum((L[i][k] * L[j][k] for k in range(j)), Decimal(0))
            L[i][j] = s.sqrt() if i == j else s / L[j][j]
    return L


def _forward(L: list[list[Decimal]], b: list[Decimal]) -> list[Decimal]:
    z = [Decimal(0)] * len(b)
    for i in range(len(b)):
        z[i] = (b[i] - sum((L[i][k] * z[k] for k in range(i)), Decimal(0))) / L[i][i]
    return z


def load() -> pd.DataFrame:
    """The stored data, ``occf`` ordered o1 … o6."""
    d = pd.read_csv(HERE / "case.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d


def exact(d: pd.DataFrame, s: float, rho: float, Phi: float, power: float, kind: str) -> float:
    """ML −2ℓ at the ar1 term's (sd relative to σ, ρ), AR1 Φ and the variance parameter
    (``kind`` "exp": expon on w; "power": power on v)."""
    ds, drho, dPhi, dp = (Decimal(float(v)) for v in (s, rho, Phi, power))
    A = [[Decimal(0)] * 2 for _ in range(2)]
    b = [Decimal(0)] * 2
    yy = ld = Decimal(0)
    for _, g in d.groupby("Subject", sort=False):
        occ = [int(v) for v in g["occ"]]
        if kind == "exp":
            D = [(dp * Decimal(float(w))).exp() for w in g["w"]]
        else:
            D = [(dp * Decimal(float(v)).ln()).exp() for v in g["v"]]
        m = len(occ)
        V = [
            [
                ds * ds * drho ** abs(occ[i] - occ[j]) + D[i] * D[j] * dPhi ** abs(occ[i] - occ[j])
                for j in range(m)
            ]
            for i in range(m)
        ]
        L = _chol(V)
        ld += 2 * sum(L[i][i].ln() for i in range(m))
        Xw = [_forward(L, [Decimal(1)] * m), _forward(L, [Decimal(float(v)) for v in g["x"]])]
        yw = _forward(L, [Decimal(float(v)) for v in g["y"]])
        for a in range(2):
            b[a] += sum(Xw[a][i] * yw[i] for i in range(m))
            for c in range(2):
                A[a][c] += sum(Xw[a][i] * Xw[c][i] for i in range(m))
        yy += sum(v * v for v in yw)
    det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
    beta = [(A[1][1] * b[0] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - A[1][0] * b[0]) / det]
    r2 = yy - beta[0] * b[0] - beta[1] * b[1]
    n = Decimal(len(d))
    return float(n * (1 + (2 * PI * r2 / n).ln()) + ld)


# the fits' reported parameters (θ = s, ρ; Φ; expon / power), session 13 lane rvfix
FITS = {
    "exp": (0.0009914658560135942, 0.4515671030014146, 0.5819287319666365, -0.786176331812584),
    "power": (0.000991466492775065, 0.45159055095683265, 0.5819459221776752, -0.7861761932902966),
}

if __name__ == "__main__":
    data = load()
    out = {
        kind: dict(zip(["s", "rho", "Phi", "param"], p, strict=True))
        | {"m2l": exact(data, *p, kind=kind)}
        for kind, p in FITS.items()
    }
    print(json.dumps(out, indent=1))
