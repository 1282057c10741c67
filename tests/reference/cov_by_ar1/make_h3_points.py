"""Issue 12 (lane byedge): h3_points.json and h1_points.json, the points of by_dense.R.

Run on main fe2042f (before the by= edge check) from the repository root as
``python tests/reference/cov_by_ar1/make_h3_points.py h3 h1`` (it reads notes/rv21/data/<case>.csv,
copied here as <case>.csv). One JSON line per case: the by= fit's point in absolute terms (G's sds
and rho, each group's residual sd and phi, levels sorted), its loglik, evaluations and warnings.
<case>_points.json keeps sd, rho, rsd, phi and loglik under the name "by".
"""

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

import mixedfit as mf

F = "y ~ x + ar1(0 + occf | Subject, hom=False)"
for name in sys.argv[1:]:
    d = pd.read_csv(f"notes/rv21/data/{name}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    t = time.process_time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer(F, d, reml=True, residual=mf.AR1("occ", "Subject", by="grp"))
    e = fit._engine
    s, th, m = e.sigma, e.theta, e.model
    ncor = len(m.correlation.names)
    ratios = dict(zip(m.variance.names, np.exp(e.phi[ncor:]), strict=True))
    lv = sorted(d.grp.unique())
    phis = {
        n.split(":")[0]: float(u / np.sqrt(1 + u * u))
        for n, u in zip(m.correlation.names, e.phi[:ncor], strict=True)
    }
    row = dict(
        sd=list(th[:5] * s),
        rho=float(th[5]),
        rsd=[ratios.get(g, 1.0) * s for g in lv],
        phi=[phis[g] for g in lv],
        u=list(map(float, e.phi[:ncor])),
        loglik=fit.loglik,
        evals=fit.optimizer.evaluations,
        cpu=round(time.process_time() - t, 1),
        converged=bool(fit.optimizer.converged),
        warnings=[f"{x.category.__name__}: {x.message}" for x in w],
    )
    print(json.dumps({name: row}), flush=True)
