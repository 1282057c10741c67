"""Profile-likelihood interval ends of an unstructured fit's correlations and sd ratios
(Orthodont, distance ~ Sex * age, UN over the 4 ages, ML profile), independent of mixedfit:
the ML deviance from a dense per-subject Σ = diag(s) R diag(s) (β by GLS), profiled by
scipy's Nelder–Mead, Powell and BFGS in turn over the other sds (log) and correlations (a
non-positive-definite R is rejected), evaluated at the interval ends mixedfit gives: each
D_prof − D̂ is z²(0.975) = 3.841459 to 1e-6 (the old ends had 1.72 for cor(3,2)'s upper end).
Written for tests/test_residual_profile.py (the ends of cor(3,2) and sd ratio 4 were wrong
before: BOBYQA stopped early on the 1e300 returned where the parameter could not be held).

Run from the repository root:  python tests/reference/cov_profile/make_un_profile.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.optimize as so
import scipy.stats

HERE = Path(__file__).parent
df = pd.read_csv(HERE.parent.parent / "data" / "cov" / "orthodont.csv").sort_values(
    ["Subject", "age"]
)
n_sub = df["Subject"].nunique()
Y = df["distance"].to_numpy().reshape(n_sub, 4)
male = (df["Sex"] == "Male").to_numpy().astype(float)
age = df["age"].to_numpy().astype(float)
X = np.column_stack([np.ones(len(df)), male, age, male * age]).reshape(n_sub, 4, 4)
PAIRS = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
Z2 = float(scipy.stats.norm.ppf(0.975)) ** 2


def deviance(logs: np.ndarray, cors: np.ndarray) -> float:
    R = np.eye(4)
    for (i, j), c in zip(PAIRS, cors, strict=True):
        R[i, j] = R[j, i] = c
    s = np.exp(logs)
    try:
        C = np.linalg.cholesky(s[:, None] * R * s[None, :])
    except np.linalg.LinAlgError:
        return 1e10
    Xt = np.linalg.solve(C, X)
    yt = np.linalg.solve(C, Y[..., None])[..., 0]
    A = np.einsum("ikp,ikq->pq", Xt, Xt)
    beta = np.linalg.solve(A, np.einsum("ikp,ik->p", Xt, yt))
    r = yt - np.einsum("ikp,p->ik", Xt, beta)
    logdet = n_sub * 2 * np.log(np.diag(C)).sum()
    return float(logdet + (r**2).sum() + Y.size * math.log(2 * math.pi))


def minimize(f, x0: np.ndarray) -> tuple[float, np.ndarray]:
    x, fun = x0, f(x0)
    for method in ("Nelder-Mead", "Powell", "BFGS"):
        opts = {"maxiter": 200_000}
        if method == "Nelder-Mead":
            opts.update(xatol=1e-10, fatol=1e-12)
        r = so.minimize(f, x, method=method, options=opts)
        if r.fun < fun:
            x, fun = r.x, r.fun
    return fun, x


S0 = np.cov(Y.T)
sd0 = np.sqrt(np.diag(S0))
p0 = np.concatenate([np.log(sd0), [S0[i, j] / (sd0[i] * sd0[j]) for i, j in PAIRS]])
D0, p_hat = minimize(lambda p: deviance(p[:4], p[4:]), p0)


def profile(name: str, v: float) -> float:
    if name.startswith("cor"):
        idx = PAIRS.index((int(name[4]) - 1, int(name[6]) - 1))
        fun, _ = minimize(
            lambda p: deviance(p[:4], np.insert(p[4:], idx, v)), np.delete(p_hat, 4 + idx)
        )
    else:  # sd ratio k = s_k / s_1
        k = int(name.split()[-1]) - 1

        def f(p: np.ndarray) -> float:
            logs = np.insert(p[:3], k, 0.0)
            logs[k] = logs[0] + math.log(v)
            return deviance(logs, p[3:])

        fun, _ = minimize(f, np.delete(p_hat, k))
    return fun - D0


def estimate(name: str) -> float:
    if name.startswith("cor"):
        return float(p_hat[4 + PAIRS.index((int(name[4]) - 1, int(name[6]) - 1))])
    k = int(name.split()[-1]) - 1
    return math.exp(p_hat[k] - p_hat[0])


# D_prof − D̂ at the interval ends mixedfit's confint(method="profile") gives (the ends are
# right if it equals z² = 3.841459: its slope there is ~40 per unit, so 1e-6 in D is ~3e-8 in
# the end)
ENDS = {"cor(3,2)": (0.2463802923, 0.7685000646), "sd ratio 4": (0.6811846686, 1.32285334)}
out: dict[str, object] = {"ml_deviance": D0, "z2": Z2}
for name, ends in ENDS.items():
    change = [profile(name, v) for v in ends]
    out[name] = {
        "estimate": estimate(name),
        "lower": ends[0],
        "upper": ends[1],
        "deviance_change": change,
    }
    print(name, out[name], flush=True)
(HERE / "un_profile.json").write_text(json.dumps(out, indent=2) + "\n")
