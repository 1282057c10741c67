import sys, tempfile, warnings
sys.path.insert(0, 'tests')
import numpy as np, mixedfit as mf
from references import EXTRA_DIR, load_reference, reference_data
from mixedfit.engine import lmm
ref = load_reference(EXTRA_DIR / "crossed_k3_ml.json"); d = reference_data(ref)
f = mf.lmer(ref["formula_py"], d, reml=False)
e = f._engine
print("theta", e.theta, "record.theta==theta", np.array_equal(e.record.theta, e.theta))
print("fit check grad", e.check.gradient, "scaled", e.check.scaled_gradient, "msg", e.check.message, "value", e.check.value, "objective", e.objective)
p = tempfile.mktemp(dir="/tmp/p16/rv25", suffix=".json"); f.save(p)
b = mf.load_fit(p); c = b._engine.check
print("reloaded check grad", c.gradient, "scaled", c.scaled_gradient, "msg", c.message, "value", c.value)
print("objective - lme4", f.objective - ref["objective"])
s = str(f.summary()) if hasattr(f, "summary") else ""
print([l for l in s.splitlines() if "onverg" in l or "gradient" in l.lower()][:5])
print("optimizer.gradient", getattr(f.optimizer, "gradient", None))
