"""CPU seconds to compile the kernel's four entry points in an empty NUMBA_CACHE_DIR (then loaded)."""
import json, time
import numpy as np
from numba import types
from mixedfit.engine import jit_kernel as k
C1f, C2f, C1i = types.float64[::1], types.float64[:, ::1], types.int64[::1]
out = {}
t = time.process_time(); k.criterion_c(); out["criterion_c"] = time.process_time() - t
t = time.process_time(); k.objective(); out["objective"] = time.process_time() - t
t = time.process_time(); k.evaluate.compile((C1f, C1f, C1i)); out["evaluate"] = time.process_time() - t
t = time.process_time(); k.evaluate_many.compile((C2f, C1f, C1i, C1f)); out["evaluate_many"] = time.process_time() - t
out["total"] = round(sum(out.values()), 2)
print(json.dumps({a: round(b, 2) for a, b in out.items()}))
