"""Lane ortho2: one process imports mixedfit and fits Orthodont (cold or warm per NUMBA_CACHE_DIR);
prints its user CPU and which kernel entry points were compiled or loaded."""
import json, resource, sys, time
t = time.perf_counter()
import mixedfit as mf
m = mf.lmer("distance ~ age * Sex + (1 + age|Subject)", mf.load_dataset("Orthodont"))
from mixedfit.engine import jit_kernel as k
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"user": ru.ru_utime, "sys": ru.ru_stime, "wall": time.perf_counter() - t,
    "sigs": {n: len(getattr(k, n).signatures) for n in ["evaluate", "evaluate_many", "_factor", "_counted"]},
    "crit_c": bool(k._criteria), "obj": bool(k._compiled)}))
