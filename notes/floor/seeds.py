"""Lane floor: the spanning-term test model (tests/test_residual_attained.py::_spanning_data)
over seeds; which drive a stratum to the probe's floor."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

import mixedfit as mf


def spanning_data(seed: int, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lag = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    F, E = np.linalg.cholesky(0.5**lag), np.linalg.cholesky(2.25 * 0.6**lag)
    rows = []
    for s in range(n):
        b, e, g = F @ rng.standard_normal(6), E @ rng.standard_normal(6), "ab"[s % 2]
        for j in range(6):
            x = rng.standard_normal()
            y = 1 + 0.5 * x + b[j] + (0.8 if g == "b" else 1.0) * e[j]
            rows.append(dict(Subject=f"s{s:02d}", occ=j + 1, occf=f"o{j + 1}", grp=g, x=x, y=y))
    d = pd.DataFrame(rows)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 7)])
    return d


if __name__ == "__main__":
    for seed in [int(a) for a in sys.argv[1:]]:
        d = spanning_data(seed)
        d.to_csv(f"notes/floor/span_s{seed}.csv", index=False)
        t = time.time()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit = mf.lmer(
                "y ~ x + ar1(0 + occf | Subject)",
                d,
                reml=False,
                residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
            )
        print(
            f"seed {seed}: loglik {fit.loglik:.8f} theta {np.asarray(fit.theta)} "
            f"params {dict(fit.residual.params)} sigma {fit.sigma:.6g} conv {fit.converged} "
            f"{time.time() - t:.1f}s"
        )
        for w in seen:
            print("   ", w.category.__name__, str(w.message)[:300])
