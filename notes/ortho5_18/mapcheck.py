"""Dump to_original / to_centred on many θ for several centrings (run under old and new code)."""
import sys, hashlib, timeit, numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine import skeleton
rng = np.random.default_rng(1)
h = hashlib.md5()
cases = []
orth = mf.load_dataset("Orthodont"); sl = mf.load_dataset("sleepstudy")
sl2 = sl.copy(); sl2["Days"] = sl2["Days"] * 1e-6  # scaled
sl3 = sl.copy(); sl3["Days"] = sl3["Days"] + 3000  # cancelling
sl4 = sl.copy(); sl4["D2"] = np.random.default_rng(5).normal(size=len(sl4)) + 30
for df, f in [(orth, "distance ~ age * Sex + (1 + age|Subject)"), (sl2, "Reaction ~ Days + (Days | Subject)"),
              (sl3, "Reaction ~ Days + (Days | Subject)"), (sl4, "Reaction ~ Days + (Days + D2 | Subject)"),
              (sl4, "Reaction ~ Days + (D2 | Subject) + (1|Days)"),
              (orth, "distance ~ age + (age|Subject) + (0 + age|Sex)")]:
    skeleton._SKELETONS._data.clear()
    try:
        mf.lmer(f, df)
    except Exception as e:
        print("fit failed", f, e)
    sk = list(skeleton._SKELETONS._data.values())[0]
    c = sk.centring
    if c is None: print("no centring", f); continue
    m = c.layout.size
    for _ in range(3000):
        th = rng.normal(size=m) * rng.choice([1e-8, 1e-3, 1, 1e3])
        th[rng.random(m) < 0.2] = 0.0
        lo = c.layout.lower(); th = np.where(lo == 0, np.abs(th), th)
        for inv in (False, True):
            try:
                r = c._map(th, inv).tobytes()
            except Exception as e:
                r = repr(type(e)).encode()
            h.update(r)
    cases.append(f)
    th = np.abs(rng.normal(size=m))
    print(f, m, "to_original us", round(min(timeit.repeat(lambda: c.to_original(th), number=5000, repeat=5)) / 5000 * 1e6, 2))
print("digest", h.hexdigest())
