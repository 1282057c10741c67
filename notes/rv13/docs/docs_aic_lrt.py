"""rv13: docs/repeated-measures.md's AIC table and LRT examples, run (compare docs_aic_lrt.R)."""
import warnings
import pandas as pd
import mixedfit as mf
warnings.simplefilter("always")
df = mf.load_dataset("orthodont")
df["agef"] = pd.Categorical(df["age"])
f = "distance ~ Sex * age"
structures = {
    "CS": mf.CompoundSymmetry("Subject"),
    "CSH": mf.CompoundSymmetry("Subject", time="agef", heterogeneous=True),
    "AR(1)": mf.AR1("agef", "Subject"),
    "ARH(1)": mf.AR1("agef", "Subject", heterogeneous=True),
    "TOEP": mf.Toeplitz("agef", "Subject"),
    "ANTE(1)": mf.AnteDependence("agef", "Subject"),
    "UN": mf.Unstructured("agef", "Subject"),
}
fits = {name: mf.gls(f, df, residual=s) for name, s in structures.items()}
fits["RI"] = mf.lmer(f + " + (1 | Subject)", df)
fits["RI + AR(1)"] = mf.lmer(f + " + (1 | Subject)", df, residual=mf.AR1("agef", "Subject"))
table = pd.DataFrame({n: {"npar": m.dof, "loglik": m.loglik, "AIC": m.aic, "BIC": m.bic} for n, m in fits.items()}).T.sort_values("AIC")
print(table.round(6).to_string())
pd.set_option("display.width", 200)
t = mf.anova(fits["CS"], fits["CSH"], fits["UN"]); print(t.round(6).to_string()); print(t.attrs)
t = mf.anova(fits["RI"], fits["RI + AR(1)"]); print(t.round(6).to_string()); print(t.attrs)
small = mf.gls("distance ~ age", df, residual=mf.CompoundSymmetry("Subject"))
t = mf.anova(small, fits["UN"]); print(t.round(6).to_string()); print(t.attrs)
try:
    t = mf.anova(small, fits["UN"], refit=False); print(t)
except Exception as e:
    print("refit=False:", type(e).__name__, e)
