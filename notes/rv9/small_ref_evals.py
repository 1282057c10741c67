"""Evaluation counts: genuine small ratio as nlme's reference (rows of that stratum first), several seeds/ratios."""
import sys, time, warnings
sys.path.insert(0, "/tmp/p9/rv9")
import pandas as pd, mixedfit as mf
from make_sims import small
warnings.simplefilter("ignore")
for seed, ratio in [(12, 1e-3), (13, 1e-3), (14, 3e-3), (15, 5e-4), (16, 2e-3)]:
    df = small(seed=seed, ratio=ratio, reps=3)
    d = pd.concat([df[df.stratum == "B"], df[df.stratum != "B"]]).reset_index(drop=True)
    out = []
    for tag, x in [("Afirst", df), ("Bfirst", d)]:
        t = time.time(); f = mf.lmer("y ~ stratum + x + (1|subject)", x, residual=mf.VarIdent("stratum"))
        out.append(f"{tag}: ll={f.loglik:.9f} ev={f.optimizer.evaluations} {time.time()-t:.1f}s")
    print(seed, ratio, " | ".join(out), flush=True)
