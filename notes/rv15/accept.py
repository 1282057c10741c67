"""rv15: brief acceptance audit of issue 12's pinned API and errors list (Orthodont/fev)."""
import sys, warnings, tempfile, os
import numpy as np, pandas as pd
import mixedfit as mf
sys.path.insert(0, "/work/rv15/tests")
from test_residual_engine import load
warnings.simplefilter("ignore")
for n in ["VarIdent","VarPower","VarExp","AR1","CAR1","ARMA","CompoundSymmetry","Toeplitz","AnteDependence","Unstructured","Spatial","gls","lmer","anova","load_fit"]:
    assert hasattr(mf, n), n
o = load("orthodont.csv"); fev = load("fev.csv")
def err(name, f):
    try: f(); print(f"{name}: NO ERROR")
    except Exception as e: print(f"{name}: {type(e).__name__}: {str(e)[:220]}")
dup = pd.concat([o, o.iloc[:1]]); err("duplicated time", lambda: mf.gls("distance ~ age", dup, residual=mf.AR1("agef", "Subject")))
o2 = o.assign(tt=o.age + 0.5 * (o.Subject == "M01")); err("non-integer time AR1", lambda: mf.gls("distance ~ age", o2, residual=mf.AR1("tt", "Subject")))
o3 = o.copy(); o3["agef"] = pd.Categorical(o3["agef"].astype(str), categories=["8","10","12","14","16"])
err("unseen time level UN", lambda: mf.gls("distance ~ age", o3, residual=mf.Unstructured("agef", "Subject")))
o4 = o.assign(grp=np.where(o.age < 11, "a", "b")); err("not nested", lambda: mf.lmer("distance ~ age + (1|grp)", o4, residual=mf.AR1("agef", "Subject")))
o5 = o[o.age <= 8]; err("needs more visits (UN 1 visit)", lambda: mf.gls("distance ~ 1", o5, residual=mf.Toeplitz("agef", "Subject")))
o6 = o.assign(z=o.age - 8); err("VarPower nonpositive", lambda: mf.gls("distance ~ age", o6, residual=mf.VarPower("z")))
m = mf.gls("FEV1 ~ RACE + SEX + ARMCD * AVISIT", fev, residual=mf.Unstructured("AVISIT", "USUBJID"))
print(m.loglik, m.aic, m.bic, m.objective)
print(m.residual.params.head(3).to_dict())
print(np.round(m.residual_cov(subject="PT1"), 4))
print(m.coef_table(ddf="kenward-roger").head(3))
print(m.anova())
m2 = mf.gls("FEV1 ~ RACE + SEX + ARMCD * AVISIT", fev, residual=mf.AR1("AVISIT", "USUBJID"))
print(mf.anova(m2, m))
print(m.confint().head(2)); print(len(m.predict()), m.simulate(nsim=2, seed=1).shape)
p = os.path.join(tempfile.mkdtemp(), "f.json"); m.save(p); m3 = mf.load_fit(p); print("reload", m3.loglik == m.loglik)
s = m.summary(); print("Residual covariance" in str(s), hasattr(s, "_repr_html_") and "Residual" in s._repr_html_())
