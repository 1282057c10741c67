"""Lane ortho2: per-evaluation minima of the loaded kernel (evaluate_many, 500 θ, 200 batches) and
the fits' bits; run on a warm NUMBA_CACHE_DIR (both variants loaded: never compiled vs loaded)."""
import json, time
import numpy as np
import mixedfit as mf
from mixedfit.engine import skeleton
MODELS = {
    "sleepstudy": ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    "penicillin": ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
    "orthodont": ("Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
    "pastes": ("Pastes", "strength ~ 1 + (1|batch/cask)"),
}
got = []
orig = skeleton.KernelLease.criterion
def spy(self, factor, reml):
    f = orig(self, factor, reml); got.append(f); return f
skeleton.KernelLease.criterion = spy
out, bits = {}, {}
for name, (data, formula) in MODELS.items():
    got.clear()
    m = mf.lmer(formula, mf.load_dataset(data))
    bits[name] = [float(m.loglik).hex() if hasattr(m, "loglik") else None]
    c = got[-1]
    n = c._layout.size
    thetas = np.abs(c._layout.start() + 0.05 * np.random.default_rng(0).standard_normal((500, n)))
    values = np.empty(500)
    times = []
    for _ in range(200):
        t = time.perf_counter(); c._evaluate_many(thetas, c._fbuf, c._ibuf, values); times.append(time.perf_counter() - t)
    out[name] = round(min(times) / 500 * 1e6, 3)
    import hashlib; bits[name].append(hashlib.md5(values.tobytes()).hexdigest()[:12])
print(json.dumps({"us": out, "bits": bits}))
