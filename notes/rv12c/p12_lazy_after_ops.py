"""Lazy BLUPs first read only AFTER other post-fit work (profile confint, bootstrap, KR summary, refit,
predict, simulate, save): equal bit for bit to those read at once on an identical fit?"""
import sys, warnings, tempfile, os
import numpy as np
import mixedfit as mf

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    orth = mf.load_dataset("Orthodont"); ss = mf.load_dataset("sleepstudy")
    models = [("Reaction ~ Days + (Days | Subject)", ss, "Subject"), ("distance ~ age + Sex + (age | Subject)", orth, "Subject")]
    ops = {
        "confint_profile": lambda f: f.confint(method="profile"),
        "bootstrap": lambda f: f.bootstrap(nsim=20, seed=1),
        "summary_kr": lambda f: f.summary(ddf="kenward-roger"),
        "refit_ml": lambda f: f.refit(reml=False),
        "refit_y": lambda f: f.refit(y=np.asarray(f.fitted) + 1.0),
        "simulate": lambda f: f.simulate(3, seed=2),
        "save": lambda f: f.save(os.path.join(tempfile.mkdtemp(), "x.json")),
        "anova": lambda f: f.anova(),
        "r2": lambda f: f.r2(),
    }
    for formula, d, g in models:
        ref = mf.lmer(formula, d).ranef[g].to_numpy()
        for name, op in ops.items():
            fit = mf.lmer(formula, d)
            try:
                op(fit)
                got = fit.ranef[g].to_numpy()
                print(f"{formula[:14]:14s} {name:16s}", "same" if np.array_equal(got, ref) else f"DIFF {np.max(np.abs(got-ref)):.3g}", flush=True)
            except Exception as e:
                print(f"{formula[:14]:14s} {name:16s} ERR {type(e).__name__}: {str(e)[:140]}", flush=True)
