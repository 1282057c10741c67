"""Whole-call minima of Orthodont per block of 200 calls over ~15 s in one process: is a process's
slowness persistent (the process) or does it come and go (the machine)?"""
import time, sys
import mixedfit as mf
df = mf.load_dataset("Orthodont"); f = "distance ~ age * Sex + (1 + age|Subject)"
for _ in range(50): mf.lmer(f, df)
out = []
end = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 15)
while time.time() < end:
    ts = []
    for _ in range(200):
        t = time.perf_counter(); mf.lmer(f, df); ts.append(time.perf_counter() - t)
    out.append(round(min(ts) * 1e6))
print(out)
