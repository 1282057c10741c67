import warnings
import numpy as np, pandas as pd, mixedfit as mf
rng = np.random.default_rng(11)
def make(kind):
    nA, nB = 60, 3
    xa = rng.standard_normal(nA); xb = np.array([-1.0, 0.2, 1.3])
    ya = 2 + 0.5*xa + rng.standard_normal(nA)
    if kind == "vanished":     # B fitted exactly by its own intercept + the common slope? use exact line with its own slope
        yb = 1 + 0.8*xb
        f = "y ~ stratum * x"
    else:
        yb = 1 + 0.8*xb + 1e-4*rng.standard_normal(nB)
        f = "y ~ stratum * x"
    d = pd.DataFrame(dict(y=np.r_[ya, yb], x=np.r_[xa, xb], stratum=["A"]*nA+["B"]*nB))
    d.to_csv(f"hdf_{kind}.csv", index=False, float_format="%.17g")
    return d, f
for kind in ("vanished", "tiny"):
    d, f = make(kind)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fit = mf.lmer(f, d, residual=mf.VarIdent("stratum"))
            print(kind, "ll", fit.loglik, fit.residual)
            for dd in ("satterthwaite", "kenward-roger"):
                try: print(fit.coef_table(ddf=dd).to_string())
                except Exception as e: print(dd, "ERR", type(e).__name__, str(e)[:300])
        except Exception as e:
            print(kind, "FIT ERR", type(e).__name__, str(e)[:300])
    for x in w: print("  WARN", x.category.__name__, str(x.message)[:250])
