"""rv13 held-out: mixedfit vs nlme (make_heldout.R) on rv13's own data, REML and ML; β, SE, ℓ, params."""
import json, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd
import mixedfit as mf

H = Path(__file__).parent
ref = json.loads((H / "heldout_nlme.json").read_text())
d = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 6)])
only = sys.argv[1:]
for name, r in ref.items():
    if name.startswith("gapcheck") or (only and not any(o in name for o in only)):
        continue
    py = r["python"]
    st = eval(py["r"], {"mf": mf})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = mf.lmer(py["f"], d, reml=r["reml"], residual=st)
    ll = fit.loglik
    b = pd.Series(r["beta"]); se = pd.Series(r["se"])
    b.index = [i.replace("trtB", "trt[T.B]") for i in b.index]; se.index = b.index
    fe = fit.fixef
    # map names (mixedfit may name trtB like R)
    fe = fe.rename(lambda s: s.replace("trtB", "trt[T.B]"))
    mysd = fit.coef_table()
    col = [c for c in mysd.columns if "err" in c.lower() or c.lower() in ("se", "std.error")][0]
    mysd = mysd[col].rename(lambda s: s.replace("trtB", "trt[T.B]"))
    scale = np.maximum(b.abs(), se)
    bd = ((fe.reindex(b.index) - b).abs() / scale).max()
    sd = ((mysd.reindex(se.index) - se).abs() / se).max()
    flag = lambda c: " FAIL" if c else ""
    print(f"{name}: ll py={ll:.8f} R={r['loglik']:.8f} diff={ll - r['loglik']:+.2e}{flag(abs(ll-r['loglik'])/abs(r['loglik'])>1e-6)}"
          f" beta={bd:.1e}{flag(not bd<=1e-4)} se={sd:.1e}{flag(not sd<=1e-3)}"
          f" aic py={fit.aic:.4f} R={r['aic']:.4f} bic py={fit.bic:.4f} R={r['bic']:.4f} sigma py={fit.sigma:.6f} R={r['sigma']:.6f}")
    print("   params py:", dict(fit.residual.params.round(6)), "| R:", r["struct"], r.get("toep_lags", ""), r.get("ratios", ""))
    if w:
        print("   warnings:", [f"{type(x.message).__name__}: {str(x.message)[:150]}" for x in w])
