"""_Run._check (the compiled derivatives + verdict) inside the whole Orthodont call, and the whole call: min/median µs."""
import time, statistics, sys
import numpy as np
import mixedfit as mf
from mixedfit.engine import compiled_fit as cf
df = mf.load_dataset("Orthodont"); f = "distance ~ age * Sex + (1 + age|Subject)"
o = cf._Run._check
acc=[]
def w(self, theta, f0):
    t=time.perf_counter()
    try: return o(self, theta, f0)
    finally: acc.append(time.perf_counter()-t)
cls=cf._Run
cls._check = w
tot=[]
for _ in range(50): mf.lmer(f, df)
acc.clear()
for _ in range(1000):
    t=time.perf_counter(); mf.lmer(f, df); tot.append(time.perf_counter()-t)
print("check", min(acc)*1e6, statistics.median(acc)*1e6, len(acc))
print("whole", min(tot)*1e6, statistics.median(tot)*1e6)
