"""mixedfit fits of the rv10 held-out cases. Run: PYTHONPATH=<tree> python py_fits.py out.json [names]."""
import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf

DIR = "/tmp/p10/rv10/data"
SPEC = {
    "none4": ("gls", "none", ""), "cs5": ("gls", "cs", ""), "ar13": ("gls", "ar1", ""),
    "ar16": ("gls", "ar1", ""), "ri_none6": ("lme", "none", " + (1|subject)"),
    "ri_ar14": ("lme", "ar1", " + (1|subject)"), "slope4": ("lme", "none", " + (1 + x|subject)"),
    "two5": ("lme", "none", " + (1|site) + (1|subject)"),
}

def residual(corr):
    v = mf.VarIdent("stratum")
    if corr == "cs":
        return mf.CompoundSymmetry("subject") & v
    if corr == "ar1":
        return mf.AR1("t", "subject") & v
    return v

def run(name, variant, reml):
    kind, corr, re = SPEC[name]
    df = pd.read_csv(f"{DIR}/{name}.csv")
    if variant == "shuffled":
        df = df.sample(frac=1, random_state=7).reset_index(drop=True)
    elif variant == "plus":
        df = df.assign(y=df["y"] + 1e4)
    elif variant == "times":
        df = df.assign(y=df["y"] * 1e-3)
    f = "y ~ stratum + x" + re
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = (mf.gls(f, df, residual=residual(corr), reml=reml) if kind == "gls"
               else mf.lmer(f, df, residual=residual(corr), reml=reml))
    cpu = time.process_time() - t0
    opt = fit.optimizer
    return dict(loglik=float(fit.loglik), beta={k: float(v) for k, v in fit.fixef.items()},
                se={k: float(v) for k, v in zip(fit.fixef.index, np.sqrt(np.diag(np.asarray(fit.vcov))))},
                sigma=float(fit.sigma), theta=[float(t) for t in np.atleast_1d(getattr(fit, 'theta', []))], params={k: float(v) for k, v in fit.residual.params.items()},
                warnings=sorted({f"{w.category.__name__}: {str(w.message)[:200]}" for w in seen}),
                evals=getattr(opt, "evaluations", None) if not isinstance(opt, dict) else opt.get("evaluations", str(opt)[:200]),
                cpu=cpu)

if __name__ == "__main__":
    out = {}
    names = sys.argv[2:] or list(SPEC)
    for n in names:
        for variant in ["asis", "shuffled", "plus", "times"]:
            for reml in [True, False]:
                key = f"{n}.{variant}.{'REML' if reml else 'ML'}"
                try:
                    out[key] = run(n, variant, reml)
                except Exception as e:  # record it
                    out[key] = dict(error=f"{type(e).__name__}: {e}")
                print(key, out[key].get("loglik", out[key].get("error")), out[key].get("warnings"), out[key].get("evals"), round(out[key].get("cpu", 0), 2), flush=True)
    json.dump(out, open(sys.argv[1], "w"), indent=1)
