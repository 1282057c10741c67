import json, sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
D = "/tmp/p9/rv9/data/"
def L(n): return pd.read_csv(D + n, dtype={"Rat":str,"Diet":str,"Subject":str,"Sex":str,"agef":str,"QB":str,"Chick":str,"Seed":str,"Dog":str,"Side":str,"Worker":str,"Machine":str,"Block":str,"variety":str,"Mare":str})
M = {
 "bw_ri_vi": lambda: mf.lmer("weight ~ Time*Diet + (1|Rat)", L("bw.csv"), residual=mf.VarIdent("Diet")),
 "bw_ri_vi_ml": lambda: mf.lmer("weight ~ Time*Diet + (1|Rat)", L("bw.csv"), residual=mf.VarIdent("Diet"), reml=False),
 "orth_gls_cs_vi": lambda: mf.gls("distance ~ Sex*age", L("orth.csv"), residual=mf.CompoundSymmetry("Subject") & mf.VarIdent("Sex")),
 "orth_ri_viage": lambda: mf.lmer("distance ~ Sex*age + (1|Subject)", L("orth.csv"), residual=mf.VarIdent("agef")),
 "dial_rs_vi": lambda: mf.lmer("rate ~ (pressure+p2)*QB + (pressure|Subject)", L("dial.csv"), residual=mf.VarIdent("QB")),
 "chick_ri_vi": lambda: mf.lmer("weight ~ Time*Diet + (1|Chick)", L("chick.csv"), residual=mf.VarIdent("Diet")),
 "lob_ri_viage": lambda: mf.lmer("height ~ age + I(age**2) + (1|Seed)", L("lob.csv"), residual=mf.VarIdent("agef")),
 "pixel_nested_vi": lambda: mf.lmer("pixel ~ day + d2 + (day|Dog) + (1|Dog:Side)", L("pixel.csv"), residual=mf.VarIdent("Side")),
 "mach_nested_vi": lambda: mf.lmer("score ~ Machine + (1|Worker) + (1|Worker:Machine)", L("mach.csv"), residual=mf.VarIdent("Machine")),
 "wheat_gls_vi": lambda: mf.gls("yield ~ variety", L("wheat.csv"), residual=mf.VarIdent("Block")),
 "ovary_ri_ar1": lambda: mf.lmer("follicles ~ s + c + (1|Mare)", L("ovary.csv"), residual=mf.AR1("t", "Mare")),
}
if __name__ == "__main__":
    R = json.load(open("/tmp/p9/rv9/heldout_R.json"))
    res = {}
    names = sys.argv[2:] or list(M)
    for k in names:
        t = time.time()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                f = M[k]()
            except Exception as e:
                print(k, "ERROR", type(e).__name__, e); continue
        ws = sorted({f"{type(x.message).__name__}: {str(x.message)[:100]}" for x in w})
        r = R[k]
        ll = float(f.loglik)
        rb = np.array(r["beta"]); b = np.asarray(f.coef if hasattr(f,"coef") else f.fixef, float)
        try:
            b = np.asarray(f.fixef, float)
        except Exception:
            pass
        se = np.sqrt(np.diag(np.asarray(f.vcov(), float))) if callable(getattr(f,"vcov",None)) else np.sqrt(np.diag(np.asarray(f.vcov,float)))
        res[k] = dict(loglik=ll, beta=b.tolist(), se=se.tolist(), sigma=float(f.sigma), evals=int(f.optimizer.evaluations), warnings=ws, params=str(getattr(f.residual,"params",None)), secs=time.time()-t)
        print(f"{k}: ll={ll:.9f} R={r['loglik']:.9f} d={ll-r['loglik']:+.2e} sig={float(f.sigma):.6g}/{r['sigma']:.6g} maxdb={np.max(np.abs(b-rb)/(np.abs(rb)+1e-8)) if b.size==rb.size else 'n/a'} maxdse={np.max(np.abs(se-np.array(r['se']))/np.array(r['se'])) if se.size==len(r['se']) else 'n/a'} ev={res[k]['evals']} t={res[k]['secs']:.1f}s", flush=True)
        for x in ws: print("    W", x)
    json.dump(res, open(sys.argv[1], "w"), indent=1)
