"""mixedfit Spatial(kind='gaussian'/'exponential') on walk_levels_a/b (ML) vs nlme (q1_spatial_R.json)."""
import sys, json, warnings
import pandas as pd
import mixedfit as mf
dir = "/work/wt-rv18/tests/reference/cov_spatial_blocks/"
for name in ("walk_levels_a", "walk_levels_b"):
    d = pd.read_csv(dir + name + ".csv")
    for kind in ("gaussian", "spherical"):
        for nug in (False, True):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                fit = mf.gls("y ~ t", d, reml=False, residual=mf.Spatial("t", "id", kind=kind, nugget=nug))
            print(name, kind, nug, f"{fit.loglik:.9f}", {k: float(v) for k, v in dict(fit.residual.params).items()},
                  fit.optimizer.evaluations, [f"{w.category.__name__}: {str(w.message)[:150]}" for w in seen], flush=True)
