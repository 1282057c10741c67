"""A fit's lazy BLUPs / residuals read after its data frame changed in place (with and without pandas
copy-on-write), vs those read at once; and a second fit of the mutated frame (stale design/skeleton?)."""
import sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.formula.memo import caches_disabled

def fresh():
    return mf.load_dataset("sleepstudy").copy()

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    if sys.argv[1:] == ["cow"]:
        pd.set_option("mode.copy_on_write", True)
    f = "Reaction ~ Days + (Days | Subject)"
    ref = mf.lmer(f, fresh())
    r_ref, fit_ref, res_ref = ref.ranef["Subject"].to_numpy(), np.asarray(ref.fitted), np.asarray(ref.residuals)
    for how in ("values[:]", "loc", "Days values"):
        d = fresh()
        d["Reaction"] = d["Reaction"].astype(float)
        fit = mf.lmer(f, d)
        if how == "values[:]":
            try:
                arr = d["Reaction"].values; arr[:] = 0.0
            except ValueError as e:
                print("  (read-only under CoW)", e)
        elif how == "loc":
            d.loc[:, "Reaction"] = np.arange(len(d)) % 7 * 1.5
        else:
            try:
                arr = d["Days"].values; arr[:] = arr[::-1].copy()
            except ValueError as e:
                print("  (read-only under CoW)", e)
        ok = (np.array_equal(fit.ranef["Subject"].to_numpy(), r_ref), np.array_equal(np.asarray(fit.fitted), fit_ref),
              np.array_equal(np.asarray(fit.residuals), res_ref))
        # refit the mutated frame: cached vs caches disabled
        g = mf.lmer(f, d)
        with caches_disabled():
            h = mf.lmer(f, d)
        same = np.array_equal(g.theta, h.theta) and np.array_equal(g.fixef.to_numpy() if hasattr(g.fixef, "to_numpy") else g.fixef, h.fixef.to_numpy() if hasattr(h.fixef, "to_numpy") else h.fixef)
        print(f"{how:12s} old fit unchanged (ranef, fitted, resid): {ok}; refit of mutated frame == uncached: {same}", flush=True)
