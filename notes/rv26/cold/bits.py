"""rv26: cold lane's kernels, pre (0013908) vs post (79b6038) merge: objective/theta bits on varied layouts."""
import hashlib, warnings, json
import numpy as np, pandas as pd
import mixedfit as mf
T = "/work/wt-rv26/tests/data"
ss = mf.load_dataset("sleepstudy"); cs = pd.read_csv(f"{T}/crossed_slopes.csv"); n3 = pd.read_csv(f"{T}/nested3.csv")
cases = [("ss slopes", "Reaction ~ Days + (Days | Subject)", ss), ("ss uncor", "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", ss),
         ("crossed slopes", "y ~ x + (1 + x | subj) + (1 + z | item)", cs), ("crossed 3", "y ~ x + (1 | subj) + (1 | item) + (0 + z | item)", cs),
         ("nested3", "y ~ x + (1 | a) + (1 | a:b) + (1 | a:b:c)", n3), ("nested3 slope", "y ~ x + (1 + x | a) + (1 | a:b)", n3)]
for name in ["penicillin", "pastes", "orthodont"]:
    try: mf.load_dataset(name)
    except Exception: pass
out = {}
for label, f, d in cases:
    for reml in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = mf.lmer(f, d, reml=reml)
        out[f"{label} {reml}"] = [float(fit.optimizer.objective).hex(), hashlib.md5(np.asarray(fit._engine.theta, float).tobytes()).hexdigest()[:10], fit.loglik]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer("y ~ x + (1 + x | subj) + (1 + z | item)", cs)
    b = fit.bootstrap(nsim=20, seed=5) if hasattr(fit, "bootstrap") else None
out["boot"] = hashlib.md5(pd.DataFrame(b if not hasattr(b, "table") else b.table).to_csv().encode()).hexdigest() if b is not None else None
print(json.dumps(out, indent=0))
