"""Lane attn: the conditioning indicator κ = max over terms and levels of ||Z̃_g T||_F² (Z̃ the
whitened columns, T the term's relative factor) against the reported path's relative error
(exact_scan.out, theta_scan.out): the calibration of attained.KAPPA_CHECK.
Usage: cd notes/attn && PYTHONPATH=$PWD/../.. python kappa.py
"""

from __future__ import annotations

import warnings

import numpy as np
from accuracy import load, set_ar, simulated

import mixedfit as mf
from mixedfit.engine.limit_gls import _spanning
from mixedfit.engine.residual.attained import conditioning
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.dense import DenseResidual
from mixedfit.model import engine_terms


def main() -> None:
    warnings.simplefilter("ignore")
    for name, d in (("v1", load("v1")), ("sim", simulated())):
        for reml in (False, True):
            fit = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=reml,
                          residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
            terms = engine_terms(fit._design)
            X, y, model = fit._design.X, fit._design.y, fit._engine.model
            crit = ResidualCriterion(terms, X, y, model)
            dense = DenseResidual(crit.layout, X, y, _spanning(crit.layout), model)
            s0, rho = (float(t) for t in fit._engine.theta)
            for phi_ar in (0.0, 0.9, 0.99, 0.9999):
                phi = set_ar(model, phi_ar, 1.0)
                out = []
                for k in (1.0, 10.0, 100.0, 1e3, 1e4, 1e5):
                    theta = np.array([s0 * k, rho])
                    x = np.concatenate([theta, phi])
                    factor = crit.factor_at(phi)
                    kappa = conditioning(factor, theta)
                    ref = float(dense.objective(x, reml))
                    err = abs(crit.reported(x, factor, reml) - ref) / abs(ref)
                    out.append(f"k={k:g} kappa {kappa:.1e} err {err:.1e} "
                               f"err/(eps*kappa) {err / (2.2e-16 * kappa):.1e}")
                print(f"{name} {'REML' if reml else 'ML'} phi={phi_ar}: " + "; ".join(out),
                      flush=True)


if __name__ == "__main__":
    main()
