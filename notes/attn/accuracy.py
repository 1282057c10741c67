"""Lane attn: how far the reporting path's criterion is from the dense one (DenseResidual, exact
as ratios → 0) as the VarIdent spread and the AR(1) φ vary: the justification of
attained.needs_check (the net only below a spread of orthogonal.TINY = 1e-2).

Model: y ~ x + ar1(0 + occf | Subject) beside AR1 & VarIdent(grp) (the stress sets v1, c29, v5)
and a simulated 2,000 × 6 set (same model, 12,000 rows), ML and REML, θ from a fit at ordinary
ratios (v5's θ is 13,591: there the factor's error is large at every spread, the conditioning
rule's case, notes/attn/kappa.out). Paths: 'reported' = what a fit reports at x
(ResidualCriterion.reported: the whitened rows' factor at spread >= TINY, the QR below, dense
below DENSE_BELOW); 'fast' = the optimizer's
(pattern statistics / cross products). Printed: max |path - dense| / max(1, |dense|) per spread.
Usage: PYTHONPATH=$PWD python notes/attn/accuracy.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.model import engine_terms

REF = Path(__file__).resolve().parents[2] / "tests" / "reference" / "cov_vi_stress"


def load(name: str) -> pd.DataFrame:
    d = pd.read_csv(REF / f"{name}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d


def simulated(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    F, E = np.linalg.cholesky(2.0 * 0.5**lag), np.linalg.cholesky(0.6**lag)
    rows = []
    for s in range(n):
        b, e, g = F @ rng.standard_normal(6), E @ rng.standard_normal(6), "ab"[s % 2]
        for j in range(6):
            x = rng.standard_normal()
            rows.append(dict(Subject=f"s{s}", occ=j + 1, occf=f"o{j + 1}", x=x, grp=g,
                             y=1 + 0.5 * x + b[j] + (0.5 if g == "b" else 1.0) * e[j]))
    d = pd.DataFrame(rows)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d


def main() -> None:
    warnings.simplefilter("ignore")
    formula = "y ~ x + ar1(0 + occf | Subject)"
    spreads = [1.0, 0.3, 0.1, 0.03, 0.0101, 0.0099, 3e-3, 1e-3, 1e-4, 1e-5, 1.01e-6]
    phis = [0.0, 0.6, 0.99, 0.9999]
    for name, d in [("v1", load("v1")), ("c29", load("c29")), ("v5", load("v5")),
                    ("sim 2000x6", simulated())]:
        for reml in (False, True):
            fit = mf.lmer(formula, d, reml=reml,
                          residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
            terms = engine_terms(fit._design)
            X, y = fit._design.X, fit._design.y
            model = fit._engine.model
            crit = ResidualCriterion(terms, X, y, model)
            layout = crit.layout
            dense = DenseResidual(layout, X, y, _spanning(layout), model)
            theta = np.asarray(fit._engine.theta, dtype=float)
            for phi_ar in phis:
                worst_rep: dict[float, float] = {}
                worst_fast: dict[float, float] = {}
                for s in spreads:
                    phi = set_ar(model, phi_ar, s)
                    x = np.concatenate([theta, phi])
                    ref = float(dense.objective(x, reml))
                    try:
                        rep = crit.reported(x, crit.factor_at(phi), reml)
                    except np.linalg.LinAlgError:  # the whitened rows' factor fails
                        rep = np.inf
                    try:
                        fast = crit.fast_factor_at(phi).objective(theta, reml)
                    except np.linalg.LinAlgError:  # the cross products do not factor
                        fast = np.inf
                    scale = max(1.0, abs(ref))
                    worst_rep[s] = abs(rep - ref) / scale
                    worst_fast[s] = abs(fast - ref) / scale
                line = " ".join(f"{s:.3g}:{worst_rep[s]:.1e}" for s in spreads)
                print(f"{name} {'REML' if reml else 'ML'} phi={phi_ar} reported-vs-dense "
                      f"(spread:rel.err) {line}", flush=True)
                line = " ".join(f"{s:.3g}:{worst_fast[s]:.1e}" for s in spreads)
                print(f"{name} {'REML' if reml else 'ML'} phi={phi_ar} fast-vs-dense     "
                      f"(spread:rel.err) {line}", flush=True)


def set_ar(model, phi_ar: float, spread: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """φ with the AR(1) correlation phi_ar (found by bisection on the reported Phi) and stratum
    b's ratio = spread (a the reference)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        phi = np.array([mid, np.log(spread)])
        if model.report(phi)["Phi"] < phi_ar:
            lo = mid
        else:
            hi = mid
    return np.array([0.5 * (lo + hi), np.log(spread)])


if __name__ == "__main__":
    sys.exit(main())
