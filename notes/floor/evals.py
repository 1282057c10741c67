"""Lane floor: ℓ, evaluations and convergence of a set of AR(1)-beside-structured-term fits, for
the before/after comparison (run once with PYTHONPATH on main's code, once on this branch).
Usage: PYTHONPATH=<code> python notes/floor/evals.py > out
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pandas as pd

import mixedfit as mf

T = Path(__file__).resolve().parents[2] / "tests" / "reference"
HERE = Path(__file__).resolve().parent
vi = mf.AR1("occ", "Subject") & mf.VarIdent("grp")
cases = [
    (f"span_s{s}", HERE / f"span_s{s}.csv", "y ~ x + ar1(0 + occf | Subject)", vi, False, 6)
    for s in range(8)
]
cases += [
    (n, T / "cov_vi_stress" / f"{n}.csv", "y ~ x + ar1(0 + occf | Subject)", vi, False, 6)
    for n in ("v1", "v5", "c29")
]
cases += [
    (n, T / "cov_near_edge" / f"{n}.csv", "y ~ x + ar1(0 + occf | Subject)", vi, False, 6)
    for n in ("near_30000", "near_3000")
]
cases += [
    (
        f"edges_{s}_{m}",
        T / "cov_rar1_edges" / f"rar1_{s}.csv",
        "y ~ x + ar1(0 + occf | Subject, hom=False)",
        mf.AR1("occ", "Subject"),
        m == "REML",
        5,
    )
    for s, m in (("s3", "REML"), ("s3", "ML"), ("s4", "ML"), ("s4", "REML"))
]
warnings.simplefilter("ignore")
for name, path, formula, residual, reml, k in cases:
    d = pd.read_csv(path)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, k + 1)])
    t = time.time()
    fit = mf.lmer(formula, d, reml=reml, residual=residual)
    print(
        f"{name}: loglik {fit.loglik:.8f} evals {fit._engine.record.evaluations} "
        f"converged {fit.converged} {time.time() - t:.1f}s",
        flush=True,
    )
