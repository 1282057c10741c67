"""Dense REML reference for tests/test_residual_car1_inside.py's ``by=`` case (independent of
mixedfit: numpy/scipy only). Run from this directory: ``python dense_car1_by.py``.

Model: y = β₀ + β₁ t + b_id + e, b_id ~ N(0, σ²θ²), within a subject of group g (a or b, constant
per subject) Cov(e) = σ² δ_g² Phi_g^|tᵢ − tⱼ| with δ_b = 1 (nlme's CAR(1) per group and a variance
ratio per group, as ``mf.CAR1("t", "id", by="g")``). σ² profiled; Phi_g maximized on [0, 1)
directly (the bound Phi = 0 included), θ ≥ 0, from a grid of starts; REML log-likelihood
−½[(n − p) log(2π σ̂²) + log|V₀| + log|X'V₀⁻¹X| + (n − p)] (lme4's, no ½ log|X'X| term).
"""

import itertools
import json
import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize


def main() -> None:
    """Fit the dense reference and write car1_by_dense.json (run from this directory)."""
    d = pd.read_csv("car1_by.csv")
    y = d["y"].to_numpy()
    X = np.column_stack([np.ones(len(d)), d["t"].to_numpy()])
    subjects = [np.flatnonzero(d["id"].to_numpy() == s) for s in pd.unique(d["id"])]
    group = [d["g"].to_numpy()[rows[0]] for rows in subjects]
    n, p = X.shape


    def neg2(par: np.ndarray) -> float:
        theta, phi_a, phi_b, log_delta_a = par
        logdet = 0.0
        XtVX = np.zeros((p, p))
        XtVy = np.zeros(p)
        ytVy = 0.0
        for rows, g in zip(subjects, group, strict=True):
            t = d["t"].to_numpy()[rows]
            phi, delta = (phi_a, math.exp(log_delta_a)) if g == "a" else (phi_b, 1.0)
            lag = np.abs(t[:, None] - t[None, :])
            R = np.where(lag == 0, 1.0, phi**lag) * delta**2
            V = theta**2 + R
            C = np.linalg.cholesky(V)
            logdet += 2 * np.log(np.diag(C)).sum()
            Xi = np.linalg.solve(C, X[rows])
            yi = np.linalg.solve(C, y[rows])
            XtVX += Xi.T @ Xi
            XtVy += Xi.T @ yi
            ytVy += yi @ yi
        beta = np.linalg.solve(XtVX, XtVy)
        rss = ytVy - XtVy @ beta
        s2 = rss / (n - p)
        reml = logdet + np.linalg.slogdet(XtVX)[1] + n - p
        return float((n - p) * math.log(2 * math.pi * s2) + reml)


    bounds = [(0.0, 10.0), (0.0, 0.999), (0.0, 0.999), (-3.0, 3.0)]
    best = None
    for start in itertools.product([0.0, 0.5], [0.0, 0.3, 0.7], [0.3, 0.7], [0.0]):
        r = minimize(neg2, np.array(start), method="L-BFGS-B", bounds=bounds,
                     options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
        if best is None or r.fun < best.fun:
            best = r
    # the same maximum with group a's Phi held at its bound 0 (the interior never does better)
    held = minimize(lambda q: neg2(np.array([q[0], 0.0, q[1], q[2]])), best.x[[0, 2, 3]],
                    method="L-BFGS-B", bounds=[bounds[0], bounds[2], bounds[3]],
                    options={"ftol": 1e-15, "gtol": 1e-10})
    out = {
        "loglik": -0.5 * best.fun,
        "par": dict(zip(["theta", "Phi_a", "Phi_b", "log_delta_a"], best.x.tolist(), strict=True)),
        "loglik_phi_a_0": -0.5 * held.fun,
    }
    with open("car1_by_dense.json", "w") as f:
        json.dump(out, f, indent=2)
    print(out)


if __name__ == "__main__":
    main()
