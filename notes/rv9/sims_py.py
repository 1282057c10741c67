import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
D = "/tmp/p9/rv9/data/"
def L(n, **kw):
    df = pd.read_csv(D + n, dtype={"subject": str, "stratum": str, "tf": str, "item": str})
    return df
def shuf(df, seed=1): return df.sample(frac=1, random_state=seed).reset_index(drop=True)
def tr(df, a=1.0, b=0.0): return df.assign(y=df.y * a + b)
def vi(df, reml=True, f="y ~ stratum + x + (1|subject)"): return mf.lmer(f, df, residual=mf.VarIdent("stratum"), reml=reml)
M = {
 "van2_reml": lambda: vi(L("van2.csv")),
 "van2_reml_shuf": lambda: vi(shuf(L("van2.csv"))),
 "van2_reml_Cfirst": lambda: vi(L("van2.csv").sort_values("stratum", key=lambda s: s.map({"C":0,"E":1}).fillna(2), kind="stable").reset_index(drop=True)),
 "van2_ml": lambda: vi(L("van2.csv"), reml=False),
 "van2_reml_x1e-4": lambda: vi(tr(L("van2.csv"), 1e-4)),
 "van2_reml_x1e4": lambda: vi(tr(L("van2.csv"), 1e4)),
 "van2_reml_p1e4": lambda: vi(tr(L("van2.csv"), 1, 1e4)),
 "small5e5_REML": lambda: vi(L("small5e5.csv")),
 "small5e5_REML_shuf": lambda: vi(shuf(L("small5e5.csv"), 3)),
 "small5e5_ML": lambda: vi(L("small5e5.csv"), reml=False),
 "small5e5_REML_x1e-4": lambda: vi(tr(L("small5e5.csv"), 1e-4)),
 "small5e5_REML_x1e4": lambda: vi(tr(L("small5e5.csv"), 1e4)),
 "small5e5_REML_p1e4": lambda: vi(tr(L("small5e5.csv"), 1, 1e4)),
 "small3e4_1_REML": lambda: vi(L("small3e4_1.csv")),
 "small3e4_1_ML": lambda: vi(L("small3e4_1.csv"), reml=False),
 "small3e4_1_REML_shuf": lambda: vi(shuf(L("small3e4_1.csv"), 7)),
 "ar1hi_lme": lambda: mf.lmer("y ~ t + (1|subject)", L("ar1hi.csv"), residual=mf.AR1("t", "subject")),
 "ar1hi_tmb": lambda: mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", L("ar1hi.csv")),
 "ar1hi_tmb_p1e4": lambda: mf.lmer("y ~ t + (1|subject) + ar1(0 + tf|subject)", tr(L("ar1hi.csv"), 1, 1e4)),
 "crossed_tmb": lambda: mf.lmer("y ~ 1 + (1|item) + ar1(0 + tf|subject)", L("crossed.csv")),
 "crossed_tmb_shuf": lambda: mf.lmer("y ~ 1 + (1|item) + ar1(0 + tf|subject)", shuf(L("crossed.csv"), 2)),
 "crossed_tmb_x1e-4": lambda: mf.lmer("y ~ 1 + (1|item) + ar1(0 + tf|subject)", tr(L("crossed.csv"), 1e-4)),
}
if __name__ == "__main__":
    res = {}
    names = sys.argv[2:] or list(M)
    for k in names:
        t = time.time()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                f = M[k]()
            except Exception as e:
                print(k, "ERROR", type(e).__name__, str(e)[:300], flush=True); continue
        ws = sorted({f"{type(x.message).__name__}: {str(x.message)[:140]}" for x in w})
        b = np.asarray(f.fixef, float); se = np.sqrt(np.diag(np.asarray(f.vcov, float)))
        p = getattr(f.residual, "params", None)
        res[k] = dict(loglik=float(f.loglik), beta=b.tolist(), se=se.tolist(), sigma=float(f.sigma), evals=int(f.optimizer.evaluations),
                      warnings=ws, params=None if p is None else {str(a): float(v) for a, v in p.items()}, secs=time.time()-t)
        print(f"{k}: ll={f.loglik:.10f} sig={f.sigma:.6g} ev={res[k]['evals']} t={res[k]['secs']:.1f}s b0={b[0]:.8g} se0={se[0]:.6g} params={res[k]['params']}", flush=True)
        for x in ws: print("    W", x)
    json.dump(res, open(sys.argv[1], "w"), indent=1)
