"""rv12a: mixedfit on crossed data at tiny ratios; criterion at fixed points vs R's dense QR."""
import sys, json, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.model.fit import engine_terms

FORMULA = "y ~ stratum + x + (1|subject) + (1|item)"
if __name__ == "__main__":
    csv, r0 = sys.argv[1], float(sys.argv[2])
    orders = sys.argv[3].split(",") if len(sys.argv) > 3 else ["as"]
    base = pd.read_csv(csv); base["stratum"] = pd.Categorical(base["stratum"], categories=["A", "B"]); base = base.sort_values("stratum", kind="stable").reset_index(drop=True)
    for order in orders:
        df = base if order == "as" else base.sample(frac=1, random_state=int(order)).reset_index(drop=True)
        for reml in (True, False):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                t = time.process_time()
                fit = mf.lmer(FORMULA, df, reml=reml, residual=mf.VarIdent("stratum"))
                t = time.process_time() - t
            params = dict(fit.residual.params)
            print(csv, order, params, "REML" if reml else "ML", "ll=%.10f" % fit.loglik, "ratio=%.6g" % (params["B"] / params["A"]),
                  "evals", fit.optimizer.evaluations, "t=%.1f" % t, [f"{w.category.__name__}: {str(w.message)[:80]}" for w in seen], flush=True)
        if order == "as":
            design, engine = fit._design, fit._engine
            crit = ResidualCriterion(engine_terms(design), design.X, design.y - design.offset, engine.model)
            for pt in ([0.2, -0.3, np.log(r0)], [0.5, 0.1, np.log(r0) + 0.7]):
                x = np.concatenate([np.exp(pt[:2]), [pt[2]]])
                print("  point", pt, "reml %.12f ml %.12f" % (crit.objective(x, True), crit.objective(x, False)), flush=True)
