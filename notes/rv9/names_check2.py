import warnings, tempfile, os
import numpy as np, pandas as pd, mixedfit as mf
warnings.simplefilter("ignore")
d = pd.read_csv("/tmp/p9/rv9/data/orth.csv", dtype={"Subject": str, "Sex": str, "agef": str})
d["grp"] = np.where(d.Subject.str[-1].isin(list("13579")), "1", "2")
d["tt"] = pd.Categorical(d.agef.map({"8": "1", "10": "2", "12": "3", "14": "4"}), categories=["1","2","3","4"])
for name, s in {"CShet(tt)&VarIdent(grp)": mf.CompoundSymmetry("Subject", time="tt", heterogeneous=True) & mf.VarIdent("grp"),
                "UN(tt)&VarIdent(grp)": mf.Unstructured("tt", "Subject") & mf.VarIdent("grp"),
                "AR1het(tt)&VarIdent(grp)": mf.AR1("tt", "Subject", heterogeneous=True) & mf.VarIdent("grp")}.items():
    for form in ["gls", "lmer"]:
        try:
            f = mf.gls("distance ~ Sex*age", d, residual=s) if form == "gls" else mf.lmer("distance ~ Sex*age + (1|Subject)", d, residual=s)
        except Exception as e:
            print(name, form, "ERR", type(e).__name__, str(e)[:200]); continue
        p = f.residual.params
        print(name, form, "unique:", p.index.is_unique, list(p.index), f"ll={f.loglik:.6f}")
        td = f.tidy(); print("   tidy:", list(td[td.effect == "ran_pars"].term))
        pth = os.path.join(tempfile.mkdtemp(), "x.mfit"); f.save(pth); g = mf.load_fit(pth)
        print("   reload", g.loglik == f.loglik, list(g.residual.params.index) == list(p.index))
