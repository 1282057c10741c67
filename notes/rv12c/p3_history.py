"""History dependence: for each pair (A, B) sharing Z, digest of B fitted alone (clear_caches before)
vs B fitted right after A (clear_caches before A). Usage: p3_history.py alone|after  -> prints digests."""
import hashlib, sys, warnings
import numpy as np
import pandas as pd
import mixedfit as mf
from mixedfit.formula.memo import clear_caches

def digest(fit):
    h = hashlib.sha1()
    for name in ("theta", "fixef", "sigma", "loglik", "vcov", "fitted"):
        v = getattr(fit, name)
        v = v() if callable(v) else v
        h.update(np.ascontiguousarray(np.asarray(v, dtype=float)).tobytes())
    for k, r in fit.ranef.items():
        h.update(np.ascontiguousarray(r.to_numpy(dtype=float)).tobytes())
    return h.hexdigest()[:12]

def pairs():
    ss = mf.load_dataset("sleepstudy")
    big = ss.assign(Reaction=ss.Reaction * 1e7 + 3e9)
    small = ss.assign(Reaction=ss.Reaction * 1e-6)
    rng = np.random.default_rng(0)
    noisy = ss.assign(Reaction=ss.Reaction + rng.normal(size=len(ss)) * 50, w=rng.uniform(0.5, 2, len(ss)), off=rng.normal(size=len(ss)) * 30)
    dint = ss.assign(Days=ss.Days.astype("int64"))
    dneg = ss.assign(Days=ss.Days.astype(float) * 1.0, X2=(ss.Days - 4.5) ** 2)
    orth = mf.load_dataset("Orthodont")
    pen, pas = mf.load_dataset("Penicillin"), mf.load_dataset("Pastes")
    f = "Reaction ~ Days + (Days | Subject)"
    return [
        ("X differs", (f, ss, {}), ("Reaction ~ 1 + (Days | Subject)", ss, {})),
        ("X2 added", (f, ss, {}), ("Reaction ~ Days + X2 + (Days | Subject)", dneg, {})),
        ("REML->ML", (f, ss, {}), (f, ss, {"reml": False})),
        ("ML->REML", (f, ss, {"reml": False}), (f, ss, {})),
        ("y big", (f, ss, {}), (f, big, {})),
        ("y small", (f, big, {}), (f, small, {})),
        ("y noisy", (f, ss, {}), (f, noisy, {})),
        ("offset", (f, noisy, {}), (f, noisy, {"offset": "off"})),
        ("weights", (f, noisy, {}), (f, noisy, {"weights": "w"})),
        ("int Days", (f, ss, {}), (f, dint, {})),
        ("uncorr", (f, ss, {}), ("Reaction ~ Days + (Days || Subject)", ss, {})),
        ("log y", (f, ss, {}), ("log(Reaction) ~ Days + (Days | Subject)", ss, {})),
        ("orth X", ("distance ~ age + (age | Subject)", orth, {}), ("distance ~ age * Sex + (age | Subject)", orth, {})),
        ("orth ML", ("distance ~ age + Sex + (age | Subject)", orth, {}), ("distance ~ age + Sex + (age | Subject)", orth, {"reml": False})),
        ("pen", ("diameter ~ 1 + (1 | plate) + (1 | sample)", pen, {}), ("log(diameter) ~ 1 + (1 | plate) + (1 | sample)", pen, {"reml": False})),
        ("pastes", ("strength ~ 1 + (1 | batch/cask)", pas, {}), ("strength ~ 1 + (1 | batch/cask)", pas.assign(strength=pas.strength * 1e5), {})),
        ("same twice", (f, ss, {}), (f, ss, {})),
    ]

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    mode = sys.argv[1]
    for name, a, b in pairs():
        clear_caches()
        if mode == "after":
            mf.lmer(a[0], a[1], **a[2])
        print(f"{name:12s}", digest(mf.lmer(b[0], b[1], **b[2])), flush=True)
