"""Lane attn: one (1 | Subject) term beside AR1 & VarIdent(grp) (simulated 2,000 × 6), the
whitened rows' factor (what a fit reports at spreads >= TINY) against the row-wise QR, at spreads
just above TINY, AR(1) φ up to 0.9999 and θ × 1–1e4: the case the conditioning rule leaves out
(no spanning term). Printed: relative differences.
Usage: cd notes/attn && PYTHONPATH=$PWD/../.. python ri_spread_scan.py
"""

from __future__ import annotations

import warnings

import numpy as np
from accuracy import set_ar, simulated

import mixedfit as mf
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.orthogonal import OrthogonalCriterion
from mixedfit.model import engine_terms


def main() -> None:
    warnings.simplefilter("ignore")
    d = simulated()
    for reml in (False, True):
        fit = mf.lmer("y ~ x + (1 | Subject)", d, reml=reml,
                      residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
        terms = engine_terms(fit._design)
        X, y, model = fit._design.X, fit._design.y, fit._engine.model
        crit = ResidualCriterion(terms, X, y, model)
        qr = OrthogonalCriterion.build(crit.terms, crit._M, crit.p, model)
        assert qr is not None
        theta0 = np.asarray(fit._engine.theta, dtype=float)
        for spread in (1.0, 0.1, 0.0101):
            for phi_ar in (0.0, 0.99, 0.9999):
                phi = set_ar(model, phi_ar, spread)
                out = []
                for k in (1.0, 100.0, 1e4):
                    theta = theta0 * k
                    ref = float(qr.objective(theta, phi, reml))
                    rep = crit.factor_at(phi).objective(theta, reml)
                    out.append(f"k={k:g}:{abs(rep - ref) / max(1.0, abs(ref)):.1e}")
                print(f"{'REML' if reml else 'ML'} theta0={theta0.round(3)} spread={spread} "
                      f"phi={phi_ar}: " + " ".join(out), flush=True)


if __name__ == "__main__":
    main()
