"""Compiled single-fit path (fcall3) vs the Python path (compiled_fit._loop patched to None), on every
lme4 reference case but InstEval plus hard synthetic cases; digests bit for bit and objective vs lme4."""
import sys, warnings
sys.path[:0] = ["/work/rv12c/tests", "/tmp/p11/rv12c"]
import numpy as np
import mixedfit as mf
import mixedfit.engine.compiled_fit as cf
from mixedfit.formula.memo import clear_caches
from conftest import fit_reference
from references import SHARED, EXTRA
from p3_history import digest

def synth():
    rng = np.random.default_rng(3)
    ss = mf.load_dataset("sleepstudy")
    n = len(ss)
    out = []
    # boundary: no subject variance
    out.append(("bnd", "y ~ Days + (Days | Subject)", ss.assign(y=ss.Days * 3 + rng.normal(size=n)), {}))
    # near-singular correlation: slope exactly proportional to intercept effect
    u = rng.normal(size=18); sub = ss.Subject.cat.codes.to_numpy() if hasattr(ss.Subject, "cat") else ss.Subject.astype("category").cat.codes.to_numpy()
    out.append(("perfcor", "y ~ Days + (Days | Subject)", ss.assign(y=30 * u[sub] + 3 * u[sub] * ss.Days + rng.normal(size=n)), {}))
    out.append(("bigy", "y ~ Days + (Days | Subject)", ss.assign(y=ss.Reaction * 1e8 + 1e12), {}))
    out.append(("tinyy", "y ~ Days + (Days | Subject)", ss.assign(y=ss.Reaction * 1e-9), {"reml": False}))
    out.append(("wts", "Reaction ~ Days + (Days | Subject)", ss.assign(w=rng.uniform(0.1, 10, n)), {"weights": "w"}))
    out.append(("wts_bnd", "y ~ Days + (1 | Subject)", ss.assign(y=rng.normal(size=n), w=rng.uniform(0.1, 10, n)), {"weights": "w"}))
    out.append(("offset", "Reaction ~ Days + (Days | Subject)", ss.assign(o=rng.normal(size=n) * 100), {"offset": "o"}))
    return out

def run(python_path):
    cf._loaded.clear()
    cf._loop = (lambda: None) if python_path else ORIG
    res = {}
    for p in SHARED + EXTRA:
        if "insteval" in p.stem:
            continue
        clear_caches()
        ref, fit = fit_reference(p)
        res[p.stem] = (digest(fit), fit.objective - ref["objective"])
    for name, f, d, kw in synth():
        clear_caches()
        fit = mf.lmer(f, d, **kw)
        res[name] = (digest(fit), fit.objective)
    return res

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    ORIG = cf._loop
    a = run(False)
    b = run(True)
    for k in a:
        flag = "same" if a[k][0] == b[k][0] else "DIFF"
        print(f"{k:34s} {flag} compiled {a[k][1]: .3e} python {b[k][1]: .3e}")
