import warnings
import numpy as np, pandas as pd, mixedfit as mf
for noise in (1e-12, 1e-9, 1e-7, 1e-5, 1e-3):
    rng = np.random.default_rng(11)
    nA = 60; xa = rng.standard_normal(nA); xb = np.array([-1.0, 0.2, 1.3, 0.5])
    ya = 2 + 0.5*xa + rng.standard_normal(nA); yb = 1 + 0.8*xb + noise*rng.standard_normal(4)
    d = pd.DataFrame(dict(y=np.r_[ya, yb], x=np.r_[xa, xb], stratum=["A"]*nA+["B"]*4))
    d.to_csv(f"/tmp/p10/rv11/hdf2_{noise:g}.csv", index=False, float_format="%.17g")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fit = mf.lmer("y ~ stratum * x", d, residual=mf.VarIdent("stratum"))
            out = f"ll={fit.loglik:.6f} {fit.residual}"
            for dd in ("satterthwaite", "kenward-roger"):
                try: out += f" | {dd[:4]} df " + " ".join(f"{v:.4g}" for v in fit.coef_table(ddf=dd)['df'])
                except Exception as e: out += f" | {dd[:4]} ERR {type(e).__name__}: {str(e)[:150]}"
        except Exception as e:
            out = f"FIT ERR {type(e).__name__} {str(e)[:150]}"
    print(noise, out, [ (x.category.__name__, str(x.message)[:120]) for x in w])
