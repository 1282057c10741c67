"""Write h8_fit.json: h8's by= fit (REML) saved by ``fit.save`` (lane lows28, session 18), ℓ
−26.7400534 (R's best −26.740053224), group a's residual variance vanished (the reference: a
BoundaryWarning names it). tests/test_by_vanished_phi.py loads it (one factorization, no fit)
and checks what is reported of a's φ. Run from the repository root on the branch that made it:
``PYTHONPATH=. python tests/reference/cov_by_ar1/make_h8_fit.py``."""

import warnings
from pathlib import Path

import pandas as pd

import mixedfit as mf

HERE = Path(__file__).parent

if __name__ == "__main__":
    d = pd.read_csv(HERE / "h8.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=True,
            residual=mf.AR1("occ", "Subject", by="grp"),
        )
    fit.save(HERE / "h8_fit.json")
