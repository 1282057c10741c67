"""Lane floor, item 2: can the optimizer's fast-path noise at large conditioning (a spanning
term's effects dwarfing a stratum's residual, spread >= 1e-2) end a fit at a wrong optimum?

Data: the spanning-term generator with the term's sd S (ρ 0.5), residual AR(1) φ0, sd 1 in
stratum a and ``ratio`` in b. Per case: mixedfit's fit (ℓ, θ, φ, ratio), the factor's
conditioning (attained.conditioning) at the estimates, |fast − dense| of the optimizer's
criterion (ResidualCriterion.objective) against the exact dense blocks (DenseResidual) there,
and the dense criterion optimized (scipy, Nelder–Mead then Powell, from the fit's x) to see
whether ℓ rises: the gap = how far the fit is from the dense optimum beside it.
Usage: PYTHONPATH=$PWD python notes/floor/large_theta.py S sig rho phi0 ratio seed [seed ...]
(sig: stratum a's residual sd; the batch before it had sig 1: lt_S*_rho*_... files)
(the first two runs, rho 0.5, wrote lt_S30.0_p0.6_r0.05_s*.csv)
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import minimize

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.attained import conditioning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.model import engine_terms


def data(
    S: float, phi0: float, ratio: float, seed: int, n: int = 60, rho: float = 0.5, sig: float = 1.0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    F, E = np.linalg.cholesky(S**2 * rho**lag), np.linalg.cholesky(sig**2 * phi0**lag)
    rows = []
    for s in range(n):
        b, e, g = F @ rng.standard_normal(6), E @ rng.standard_normal(6), "ab"[s % 2]
        for j in range(6):
            x = rng.standard_normal()
            y = 1 + 0.5 * x + b[j] + (ratio if g == "b" else 1.0) * e[j]
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j + 1}", grp=g, x=x, y=y))
    d = pd.DataFrame(rows)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d


def run(
    S: float,
    phi0: float,
    ratio: float,
    seed: int,
    reml: bool = False,
    rho: float = 0.5,
    sig: float = 1.0,
) -> None:
    d = data(S, phi0, ratio, seed, rho=rho, sig=sig)
    t = time.time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject)",
            d,
            reml=reml,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    secs = time.time() - t
    terms = engine_terms(fit._design)
    X, y, model = fit._design.X, fit._design.y, fit._engine.model
    layout_crit = ResidualCriterion(terms, X, y, model)
    dense = DenseResidual(layout_crit.layout, X, y, _spanning(layout_crit.layout), model)
    x = np.concatenate([np.asarray(fit._engine.theta, float), np.asarray(fit._engine.phi, float)])
    kappa = conditioning(fit._engine.factor, fit._engine.theta)
    fast = layout_crit.objective(x, reml)
    exact = float(dense.objective(x, reml))
    lo = layout_crit.lower()

    def f(z: np.ndarray) -> float:
        v = dense.objective(np.maximum(z, lo), reml)
        return float(v) if np.isfinite(v) else 1e300

    u0 = phi0 / np.sqrt(1 - phi0**2)
    truth = float(dense.objective(np.array([S / sig, rho, u0, np.log(ratio)]), reml))
    tbest = minimize(
        f,
        np.array([S / sig, rho, u0, np.log(ratio)]),
        method="Nelder-Mead",
        options=dict(xatol=1e-10, fatol=1e-12, maxiter=20000, maxfev=20000),
    )
    best = minimize(
        f,
        x,
        method="Nelder-Mead",
        options=dict(xatol=1e-10, fatol=1e-12, maxiter=20000, maxfev=20000),
    )
    best = minimize(f, best.x, method="Powell", options=dict(xtol=1e-10, ftol=1e-14, maxfev=20000))
    p = dict(fit.residual.params)
    print(
        f"S {S} sig {sig} rho {rho} phi0 {phi0} ratio {ratio} seed {seed}: loglik {fit.loglik:.8f} "
        f"theta {np.round(np.asarray(fit.theta, float), 5)} Phi {float(p['Phi']):.6f} "
        f"b {float(p['b']):.5g} conv {fit.converged} evals {fit._engine.record.evaluations} "
        f"{secs:.1f}s | kappa {kappa:.3g} fast-dense {fast - exact:.3g} "
        f"(rel {(fast - exact) / abs(exact):.2g}) reported-dense {-2 * fit.loglik - exact:.3g} "
        f"| dense polish gain in loglik {(exact - best.fun) / 2:.3g} "
        f"| truth loglik {-truth / 2:.6f} "
        f"dense optimum from truth {-tbest.fun / 2:.8f} at {np.round(tbest.x, 5)}",
        flush=True,
    )
    for w in seen:
        print("   ", w.category.__name__, str(w.message)[:160], flush=True)
    d.to_csv(f"notes/floor/lt_S{S}_sig{sig}_rho{rho}_p{phi0}_r{ratio}_s{seed}.csv", index=False)


if __name__ == "__main__":
    S, sig, rho, phi0, ratio = (float(a) for a in sys.argv[1:6])
    for seed in sys.argv[6:]:
        run(S, phi0, ratio, int(seed), rho=rho, sig=sig)
