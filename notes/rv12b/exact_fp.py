"""rv12b: exact-check edge cases (y + c, rows == rank, collinear X)."""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf

def data(nB=4, noise=1e-7, off=0.0, seed=2):
    rng = np.random.default_rng(seed)
    rows = [dict(stratum="A", x=(x := rng.normal()), y=off + 2 + 0.5 * x + rng.normal()) for _ in range(60)]
    rows += [dict(stratum="B", x=(x := rng.normal()), y=off + 1 + 0.8 * x + noise * rng.normal()) for _ in range(nB)]
    return pd.DataFrame(rows)

def fit(label, d, form="y ~ stratum * x", reml=True):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            f = mf.lmer(form, d, reml=reml, residual=mf.VarIdent("stratum"))
            print(label, "ll %.6f" % f.loglik, "ratioB %.4g" % f.residual.params["B"], "beta", np.round(f.fixef.to_numpy(), 6))
        except Exception as e:
            print(label, type(e).__name__, str(e)[:150])
    for w in seen:
        print("   W", w.category.__name__, str(w.message)[:150])

if __name__ == "__main__":
    for off in (0.0, 1e4, 1e7):
        d = data(off=off); d.to_csv(f"/tmp/p11/rv12b/fp_off{off:g}.csv", index=False, float_format="%.17g")
        fit(f"noise1e-7 off{off:g} REML", d)
    d = data(nB=2, noise=1.0); fit("nB=2 (rows==rank) REML", d); fit("nB=2 ML", d, reml=False)
    d = data(nB=3, noise=1.0); d["z"] = 2 * d.x
    fit("collinear z=2x nB=3 noise1", d, "y ~ stratum * x + z")
    d = data(nB=3, noise=1.0); d["z"] = np.where(d.stratum == "B", 3 * d.x, d.x**2)
    fit("z collinear only within B, nB=3 noise1", d, "y ~ stratum * x + z")
