"""a_ident1: fit vs reload: summary's warnings, coef_table (Satterthwaite df)."""
import sys, warnings, tempfile, os, pandas as pd, mixedfit as mf
d = pd.read_csv(f"/tmp/p13/rv19/{sys.argv[1]}.csv")
with warnings.catch_warnings():
    warnings.simplefilter("ignore"); fit = mf.lmer("y ~ x + (1|Subject)", d, reml=False, residual=mf.VarIdent("grp"))
path = tempfile.mktemp(suffix=".json"); fit.save(path)
with warnings.catch_warnings():
    warnings.simplefilter("ignore"); again = mf.load_fit(path)
os.remove(path)
for label, f in (("fit", fit), ("reload", again)):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always"); s = str(f.summary()); t = f.coef_table()
    print(label, "warnings:", [f"{x.category.__name__}: {str(x.message)[:90]}" for x in w])
    print(t.to_string())
    print("boundary in summary:", "bound" in s)
