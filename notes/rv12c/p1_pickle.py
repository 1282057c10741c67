"""Pickle / deepcopy / copy of a fit with lazy BLUPs (before and after first access)."""
import copy, pickle, warnings, sys
import numpy as np
import mixedfit as mf
if __name__ == "__main__":
    warnings.simplefilter("ignore")
    df = mf.load_dataset("sleepstudy")
    for when in ("before", "after"):
        fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
        if when == "after":
            fit.ranef
        for name, op in [("pickle", lambda f: pickle.loads(pickle.dumps(f))), ("deepcopy", copy.deepcopy), ("copy", copy.copy)]:
            try:
                g = op(fit)
                r = g.ranef["Subject"].to_numpy()
                print(when, name, "ok", np.array_equal(r, fit.ranef["Subject"].to_numpy()))
            except Exception as e:
                print(when, name, "FAIL", type(e).__name__, str(e)[:150])
