import sys, time, warnings
import pandas as pd, numpy as np
import mixedfit as mf
REF="/work/wt-m10s/tests/reference/cov_rar1_swapref"
d = pd.read_csv(f"{REF}/m10.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
mode = sys.argv[1]
if mode=="shift": d["y"]=d["y"]+1e3
elif mode=="scale": d["y"]=d["y"]*1e3
elif mode=="small": d["y"]=d["y"]*1e-3
elif mode=="perm":
    d = d.sample(frac=1, random_state=1).reset_index(drop=True)
    d["Subject"] = "S" + d["Subject"].astype(str) + "_r"
off = {"scale": 3*np.log(1e3)*len(d)*0, }
t=time.time()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=False, residual=mf.AR1("occ","Subject") & mf.VarIdent("grp"))
ll = fit.loglik
n=len(d)
if mode=="scale": ll += n*np.log(1e3)
if mode=="small": ll += n*np.log(1e-3)
print(mode, "ll", ll, "diff", ll-2.44885817579848, fit.residual.params, "sigma", fit.sigma, "t", time.time()-t)
for w in seen: print("  W", w.category.__name__, str(w.message)[:150])
