"""Compiled single fit vs Python path at small evaluation limits and from odd starts: same bits, same warnings."""
import sys, warnings
sys.path.insert(0, "/tmp/p11/rv12c")
import numpy as np
import mixedfit as mf
import mixedfit.engine.compiled_fit as cf
from p3_history import digest

def run(kw, d, f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fit = mf.lmer(f, d, **kw)
            out = digest(fit), fit.converged
        except Exception as e:
            out = "ERR " + type(e).__name__, None
    return out, sorted({type(x.message).__name__ for x in w})

if __name__ == "__main__":
    ss = mf.load_dataset("sleepstudy"); pen = mf.load_dataset("Penicillin")
    rng = np.random.default_rng(4)
    cases = [({"max_evals": 5}, ss, "Reaction ~ Days + (Days | Subject)"),
             ({"max_evals": 12}, ss, "Reaction ~ Days + (Days | Subject)"),
             ({"max_evals": 30}, pen, "diameter ~ 1 + (1 | plate) + (1 | sample)"),
             ({"start": [0.0, 0.0, 0.0]}, ss, "Reaction ~ Days + (Days | Subject)"),
             ({"start": [100.0, 5.0, 50.0]}, ss, "Reaction ~ Days + (Days | Subject)"),
             ({"weights": "w"}, ss.assign(w=np.r_[np.full(170, 1e-8), np.ones(10)]), "Reaction ~ Days + (Days | Subject)"),
             ({}, ss.assign(y=np.where(ss.Days > 4, 1e9, 0.0) + rng.normal(size=len(ss))), "y ~ Days + (Days | Subject)")]
    orig = cf._loop
    for kw, d, f in cases:
        cf._loop = orig; a = run(kw, d, f)
        cf._loop = lambda: None; b = run(kw, d, f)
        cf._loop = orig
        print("same" if a == b else "DIFF", a, b, kw if "weights" not in kw else "tiny weights", flush=True)
