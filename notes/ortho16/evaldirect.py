import sys, time
import numpy as np
import mixedfit as mf
from mixedfit.engine import skeleton, jit_kernel as K
got = []
orig = skeleton.KernelLease.criterion
def spy(self, factor, reml):
    c = orig(self, factor, reml); got.append(c); return c
skeleton.KernelLease.criterion = spy
mf.lmer("distance ~ age * Sex + (1 + age|Subject)", mf.load_dataset("Orthodont")); c = got[-1]
thetas = np.abs(c._layout.start() + 0.05 * np.random.default_rng(0).standard_normal((500, 3)))
out = np.empty(500)
ev = K.evaluate
fb, ib = c._fbuf, c._ibuf
rows = [thetas[i] for i in range(500)]
a, b = [], []
for rep in range(100):
    t = time.perf_counter(); K.evaluate_many(thetas, fb, ib, out); a.append(time.perf_counter() - t)
    t = time.perf_counter()
    for r in rows: ev(r, fb, ib)
    b.append(time.perf_counter() - t)
print(sys.argv[1], f"evaluate_many {min(a)/500*1e6:.2f} us/eval, evaluate from Python {min(b)/500*1e6:.2f} us/call")
