"""Lane attn: the reporting path's error against an accurate one as the random effects grow
relative to the residual (θ → ∞, towards the σ → 0 limit) and the AR(1) φ → 1, at a VarIdent
spread of 1 (no tiny ratio). Reference: the dense blocks (spanning ar1 term, stress set v1) or
the row-wise QR (one (1 | Subject) term, 2,000 × 6 simulated). Printed: |reported - reference| /
max(1, |reference|) per θ scale k (θ's standard deviations × k).
Usage: PYTHONPATH=$PWD python notes/attn/theta_scan.py
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from accuracy import load, set_ar, simulated

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.engine.residual.orthogonal import OrthogonalCriterion
from mixedfit.model import engine_terms

SCALES = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5]
PHIS = [0.0, 0.9, 0.99, 0.9999]


def main() -> None:
    warnings.simplefilter("ignore")
    residual = mf.AR1("occ", "Subject") & mf.VarIdent("grp")
    sim = simulated()
    cases = [
        ("v1 ar1-term", load("v1"), "y ~ x + ar1(0 + occf | Subject)"),
        ("sim ar1-term", sim, "y ~ x + ar1(0 + occf | Subject)"),
        ("sim (1|Subject)", sim, "y ~ x + (1 | Subject)"),
    ]
    for name, d, formula in cases:
        for reml in (False, True):
            fit = mf.lmer(formula, d, reml=reml, residual=residual)
            terms = engine_terms(fit._design)
            X, y, model = fit._design.X, fit._design.y, fit._engine.model
            crit = ResidualCriterion(terms, X, y, model)
            layout = crit.layout
            span = _spanning(layout)
            dense = DenseResidual(layout, X, y, span, model) if span is not None else None
            qr = OrthogonalCriterion.build(crit.terms, crit._M, crit.p, model)
            theta0 = np.asarray(fit._engine.theta, dtype=float)
            scaled = np.asarray(layout.lower()) == 0  # the diagonals (standard deviations)
            for phi_ar in PHIS:
                phi = set_ar(model, phi_ar, 1.0)
                out = []
                for k in SCALES:
                    theta = np.where(scaled, theta0 * k, theta0)
                    x = np.concatenate([theta, phi])
                    if dense is not None:
                        ref = float(dense.objective(x, reml))
                    else:
                        assert qr is not None
                        ref = float(qr.objective(theta, phi, reml))
                    try:
                        rep = crit.reported(x, crit.factor_at(phi), reml)
                    except np.linalg.LinAlgError:
                        rep = np.inf
                    out.append(f"{k:g}:{abs(rep - ref) / max(1.0, abs(ref)):.1e}")
                print(f"{name} {'REML' if reml else 'ML'} theta0={np.round(theta0, 3)} "
                      f"phi={phi_ar}: " + " ".join(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
