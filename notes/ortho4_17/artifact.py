"""Does wrapping jit_refit's numba functions (as notes/ortho16/stages.py does) change the fit's path?
Usage: python artifact.py none | NAME [NAME ...] (jit_refit attributes wrapped in a Python function)."""
import sys, time, statistics
import mixedfit as mf
from mixedfit.engine import jit_refit, compiled_fit as cf
def wrap(orig):
    def w(*a, **k): return orig(*a, **k)
    return w
for mode in (sys.argv[1:] if sys.argv[1] != "none" else []):
    setattr(jit_refit, mode, wrap(getattr(jit_refit, mode)))
df = mf.load_dataset("Orthodont"); f = "distance ~ age * Sex + (1 + age|Subject)"
o = cf._Run._check; acc=[]
def ck(self, th, f0):
    t=time.perf_counter()
    try: return o(self, th, f0)
    finally: acc.append(time.perf_counter()-t)
cf._Run._check = ck
for _ in range(50): mf.lmer(f, df)
acc.clear(); tot=[]
for _ in range(500):
    t=time.perf_counter(); mf.lmer(f, df); tot.append(time.perf_counter()-t)
print(sys.argv[1:], "check calls", len(acc), "check min", round(min(acc)*1e6,1) if acc else None,
      "whole min", round(min(tot)*1e6), "failed", cf._failed[:1])
