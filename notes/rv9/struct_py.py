import json, sys, time, warnings
import numpy as np, pandas as pd, mixedfit as mf
D = "/tmp/p9/rv9/data/"
def ow():
    d = pd.read_csv(D + "orth.csv", dtype={"Subject": str, "Sex": str}); d["agef"] = pd.Categorical(d.age.astype(str), categories=["8","10","12","14"]); return d
def bw():
    d = pd.read_csv(D + "bw.csv", dtype={"Rat": str, "Diet": str}); d["Timef"] = pd.Categorical(d.Time.astype(str), categories=[str(t) for t in sorted(d.Time.unique())]); return d
def a():
    d = pd.read_csv(D + "ar1hi.csv", dtype={"subject": str}); d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 9)]); return d
M = {
 "orth_ri_ar1het": lambda: mf.lmer("distance ~ Sex*age + (1|Subject) + ar1(0 + agef|Subject, hom=False)", ow()),
 "orth_cs": lambda: mf.lmer("distance ~ Sex*age + cs(0 + agef|Subject)", ow()),
 "bw_ri_ar1": lambda: mf.lmer("weight ~ Time*Diet + (1|Rat) + ar1(0 + Timef|Rat)", bw()),
 "ar1hi_us": lambda: mf.lmer("y ~ t + us(0 + tf|subject)", a()),
}
if __name__ == "__main__":
    R = json.load(open("/tmp/p9/rv9/struct_R.json"))
    for k in (sys.argv[1:] or list(M)):
        t = time.time()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                f = M[k]()
            except Exception as e:
                print(k, "ERR", type(e).__name__, str(e)[:200], flush=True); continue
        ws = sorted({f"{x.category.__name__}: {str(x.message)[:90]}" for x in w})
        r = R[k]["loglik"]
        print(f"{k}: ll={f.loglik:.9f} R={r} d={(f.loglik - r) if r != 'NA' else float('nan'):+.2e} sigma={f.sigma:.6g} ev={f.optimizer.evaluations} {time.time()-t:.1f}s", flush=True)
        for x in ws: print("   W", x, flush=True)
