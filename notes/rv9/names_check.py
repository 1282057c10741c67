import warnings, tempfile, os
import numpy as np, pandas as pd, mixedfit as mf
warnings.simplefilter("ignore")
d = pd.read_csv("/tmp/p9/rv9/data/orth.csv", dtype={"Subject": str, "Sex": str, "agef": str})
d["grp"] = np.where(d.Subject.str[-1].isin(list("13579")), "1", "2")
d["t"] = d.agef.map({"8": "1", "10": "2", "12": "1", "14": "2"})
cases = {
 "AR1&VarIdent(Sex)": mf.AR1("agef", "Subject") & mf.VarIdent("Sex"),
 "CS het & VarIdent(grp)": mf.CompoundSymmetry("Subject", time="agef", heterogeneous=True) & mf.VarIdent("grp"),
 "VarIdent(t)&VarIdent(grp)?": None,
 "UN & VarIdent(Sex)": mf.Unstructured("agef", "Subject") & mf.VarIdent("Sex"),
 "ARMA(1,1)&VarPower": mf.ARMA("agef", "Subject", p=1, q=1) & mf.VarPower("age") if hasattr(mf, "ARMA") else None,
}
try:
    cases["VarIdent(t)&VarIdent(grp)?"] = mf.VarIdent("t") & mf.VarIdent("grp")
except Exception as e:
    print("combine two VarIdent:", type(e).__name__, e)
for name, s in cases.items():
    if s is None: continue
    try:
        f = mf.gls("distance ~ Sex*age", d, residual=s)
    except Exception as e:
        print(name, "ERR", type(e).__name__, str(e)[:200]); continue
    p = f.residual.params
    print(name, "unique:", p.index.is_unique, list(p.index))
    try:
        td = f.tidy(); rp = td[td.effect == "ran_pars"] if "effect" in td else td
        print("   tidy terms:", list(rp.term)[:20])
    except Exception as e:
        print("   tidy ERR", e)
    pth = os.path.join(tempfile.mkdtemp(), "x.mfit")
    try:
        f.save(pth); g = mf.load_fit(pth); print("   reload ok", g.loglik == f.loglik, list(g.residual.params.index) == list(p.index))
    except Exception as e:
        print("   save/load ERR", type(e).__name__, str(e)[:200])
