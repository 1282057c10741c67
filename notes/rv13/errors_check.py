"""rv13: the issue's error list — each raised clearly, naming the column."""
import warnings
import numpy as np, pandas as pd
import mixedfit as mf
from pathlib import Path

H = Path("/tmp/p11/rv13/heldout")
d0 = pd.read_csv(H / "heldout.csv", dtype={"id": str, "trt": str})
d0["visitf"] = pd.Categorical(d0["visitf"], categories=[f"V{i}" for i in range(1, 6)])
F = "y ~ t * trt + x"

def attempt(label, fn):
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fn()
        print(f"[{label}] NO ERROR; warnings={[str(x.message)[:200] for x in w]}")
    except Exception as e:
        print(f"[{label}] {type(e).__module__}.{type(e).__name__} (MixedFitError={isinstance(e, mf.MixedFitError) if hasattr(mf,'MixedFitError') else '?'}): {str(e)[:400]}")

# 1 duplicated time within subject
d = d0.copy(); d.loc[1, "visit"] = 1; d.loc[1, "visitf"] = "V1"
for s in ["AR1", "Toeplitz", "Unstructured"]:
    attempt(f"dup time {s}", lambda s=s: mf.gls(F, d, residual=getattr(mf, s)("visit", "id")))
attempt("dup time CAR1", lambda: mf.gls(F, d.assign(t=np.where(d.index == 1, 0.0, d.t)), residual=mf.CAR1("t", "id")))
attempt("dup time CSH (time=visitf)", lambda: mf.gls(F, d, residual=mf.CompoundSymmetry("id", time="visitf", heterogeneous=True)))
# dup on a row with missing response only (should not matter? report)
# 2 non-integer time for AR1
d = d0.copy(); d["vt"] = d["visit"] + 0.5 * (d.index == 3)
attempt("non-integer AR1", lambda: mf.gls(F, d, residual=mf.AR1("vt", "id")))
attempt("non-integer Toeplitz", lambda: mf.gls(F, d, residual=mf.Toeplitz("vt", "id")))
attempt("non-integer Unstructured", lambda: mf.gls(F, d, residual=mf.Unstructured("vt", "id")))
attempt("non-integer AnteDependence", lambda: mf.gls(F, d, residual=mf.AnteDependence("vt", "id")))
attempt("non-integer ARMA", lambda: mf.gls(F, d, residual=mf.ARMA("vt", "id", p=1, q=1)))
# 3 a time level unseen in the fit: categorical level with no observed response
d = d0.copy(); d["visitf"] = pd.Categorical(d["visitf"], categories=[f"V{i}" for i in range(1, 7)])
attempt("unseen level UN (declared V6)", lambda: mf.gls(F, d, residual=mf.Unstructured("visitf", "id")))
attempt("unseen level CSH (declared V6)", lambda: mf.gls(F, d, residual=mf.CompoundSymmetry("id", time="visitf", heterogeneous=True)))
d = d0.copy(); d.loc[d.visit == 5, "y"] = np.nan  # V5 present only on rows with missing y
attempt("unseen level UN (V5 only on NA rows)", lambda: mf.gls(F, d, residual=mf.Unstructured("visitf", "id")))
# at predict
fit = mf.gls(F, d0, residual=mf.Unstructured("visitf", "id"))
nd = d0.head(5).copy(); nd["visitf"] = pd.Categorical(["V9"] * 5)
attempt("unseen level in predict(newdata)", lambda: fit.predict(nd))
# 4 subjects not nested in RE grouping
d = d0.copy(); d["grp"] = np.where(d.visit <= 2, "g1", "g2")  # subject spans two groups
attempt("not nested", lambda: mf.lmer(F + " + (1|grp)", d, residual=mf.AR1("visit", "id")))
# 5 more visits needed than the data have
d = d0[d0.visit <= 1].copy()
attempt("UN with 1 visit", lambda: mf.gls(F, d, residual=mf.Unstructured("visitf", "id")))
attempt("AR1 with 1 visit", lambda: mf.gls(F, d, residual=mf.AR1("visit", "id")))
d = d0[d0.visit <= 2].copy()
attempt("ARMA(2,1) with 2 visits", lambda: mf.gls(F, d, residual=mf.ARMA("visit", "id", p=2, q=1)))
attempt("Toeplitz hetero 2 visits (ok?)", lambda: mf.gls(F, d, residual=mf.Toeplitz("visit", "id", heterogeneous=True)))
# 6 non-positive VarPower covariate
attempt("VarPower with 0", lambda: mf.gls(F, d0, residual=mf.VarPower("t")))
attempt("VarPower with negative", lambda: mf.gls(F, d0.assign(neg=d0.t - 3), residual=mf.VarPower("neg")))
attempt("VarPower 0 on NA-row only", lambda: mf.gls(F, d0.assign(tq=np.where(d0.y.isna() & (d0.index == d0[d0.y.isna()].index[0]), 0.0, d0.tp)), residual=mf.VarPower("tq")))
# missing time / subject on an observed row
attempt("NaN time on observed row", lambda: mf.gls(F, d0.assign(visit=np.where(d0.index == 0, np.nan, d0.visit)), residual=mf.AR1("visit", "id")))
attempt("missing column", lambda: mf.gls(F, d0, residual=mf.AR1("visitX", "id")))
