import warnings, time, sys
import mixedfit as mf
from mixedfit.io.datasets import load_dataset
import pandas as pd
pd.set_option("display.width", 200); pd.set_option("display.precision", 6)
cases = [("sleepstudy","Reaction ~ Days + (Days|Subject)"),
         ("sleepstudy","Reaction ~ Days + (1|Subject) + (0+Days|Subject)"),
         ("Penicillin","diameter ~ 1 + (1|plate) + (1|sample)"),
         ("Orthodont","distance ~ age + (age|Subject)"),
         ("Dyestuff2","Yield ~ 1 + (1|Batch)"),
         ("Dyestuff","Yield ~ 1 + (1|Batch)"),
         ("Pastes","strength ~ 1 + (1|batch/cask)")]
for ds, f in cases:
    for reml in (True, False):
        d = load_dataset(ds)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t=time.time()
            fit = mf.lmer(f, d, reml=reml)
            ci = fit.confint(method="profile")
        print(f"== {ds} {f} REML={reml} {time.time()-t:.1f}s")
        print(ci.to_string())
        for x in w: print("  WARN", x.category.__name__, str(x.message)[:200])
        sys.stdout.flush()
