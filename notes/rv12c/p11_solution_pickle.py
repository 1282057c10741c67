"""EngineFit.solution (now _LazySolution): pickle / deepcopy / copy before and after b is read."""
import copy, pickle, warnings
import numpy as np
import mixedfit as mf

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    ss = mf.load_dataset("sleepstudy")
    for when in ("unread", "read"):
        fit = mf.lmer("Reaction ~ Days + (Days | Subject)", ss)
        sol = fit._engine.solution
        if when == "read":
            sol.b
        for name, op in [("pickle", lambda s: pickle.loads(pickle.dumps(s))), ("deepcopy", copy.deepcopy), ("copy", copy.copy)]:
            try:
                s2 = op(sol)
                print(when, name, "ok", type(s2).__name__, all(np.array_equal(a, b) for a, b in zip(s2.b, sol.b)))
            except Exception as e:
                print(when, name, "FAIL", type(e).__name__, str(e)[:120])
