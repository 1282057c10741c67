import warnings, math
import mixedfit as mf
from mixedfit.io.datasets import load_dataset
cases = [("machines","score ~ Machine + (1|Worker) + (1|Worker:Machine)"),
         ("machines","score ~ Machine + (Machine|Worker)"),
         ("cake","angle ~ recipe + temperature + (1|recipe:replicate)"),
         ("orthodont","distance ~ age + Sex + (1|Subject)"),
         ("sleepstudy","Reaction ~ Days + (Days||Subject)")]
for ds, f in cases:
    try:
        d = load_dataset(ds)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fit = mf.lmer(f, d); ci = fit.confint(method="profile")
        nan = ci.isna().sum().sum()
        print("==", ds, f, "NaN ends:", nan); print(ci.to_string())
        for x in w: print("  WARN", x.category.__name__, str(x.message)[:200])
    except Exception as e: print("==", ds, f, "ERR", type(e).__name__, str(e)[:200])
