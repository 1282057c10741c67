import sys, time, statistics
import numpy as np
import mixedfit as mf
from mixedfit.engine import jit_refit, compiled_fit
F = {"orthodont": ("Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
     "sleepstudy": ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
     "penicillin": ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
     "pastes": ("Pastes", "strength ~ 1 + (1|batch/cask)")}
cap = {}
orig = jit_refit._bobyqa
def spy(fns, x, lower, step, meta, settings, max_evals):
    cap["args"] = (fns, x.copy(), lower, step, meta, settings, max_evals)
    return orig(fns, x, lower, step, meta, settings, max_evals)
jit_refit._bobyqa = spy
for name in sys.argv[1:]:
    ds, f = F[name]; df = mf.load_dataset(ds)
    mf.lmer(f, df)
    fns, x0, lower, step, meta, settings, me = cap["args"]
    state = np.frombuffer((np.ctypeslib.as_array((__import__("ctypes").c_double * int(meta[5])).from_address(int(meta[4])))), dtype=float)
    tb, te = [], []
    for rep in range(300):
        x = x0.copy()
        t = time.perf_counter(); orig(fns, x, lower, step, meta, settings, me); tb.append(time.perf_counter() - t)
        n = int(state[0]); state[0] = 0
        xs = np.tile(x0, (n, 1))
        t = time.perf_counter()
        for k in range(n): jit_refit._criterion(fns, xs[k], meta)
        te.append(time.perf_counter() - t)
    print(f"{name}: evals {n}, bobyqa min {min(tb)*1e6:.1f} us, the same number of criterion calls {min(te)*1e6:.1f} us, BOBYQA's own {min(tb)*1e6-min(te)*1e6:.1f} us ({(min(tb)-min(te))/n*1e6:.2f}/eval)")
