"""rv20 Q1: tampered residual.vanished fields in saved files (a_ident1 ML, data C ML)."""
import json, warnings, pathlib, numpy as np, pandas as pd, mixedfit as mf
R = pathlib.Path("/work/wt-rv20/tests/reference")
def load(p):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            f = mf.load_fit(p)
        except Exception as e:
            print("  REFUSED", type(e).__name__, str(e)[:200]); return None
    for w in seen: print("  ", w.category.__name__, str(w.message)[:160])
    return f
d = pd.read_csv(R / "cov_vi_vanished_verdict/a_ident1.csv")
fit = mf.lmer("y ~ x + (1|Subject)", d, reml=False, residual=mf.VarIdent("grp"))
print("a_ident1 fit", fit.loglik, dict(fit.residual.params), fit._engine.vanished)
print(fit.coef_table())
p = pathlib.Path("/tmp/p14/rv20/ident.json"); fit.save(p)
doc = json.loads(p.read_text()); print("vanished field:", doc["residual"]["vanished"])
doc["residual"]["vanished"]["values"] = [True]; p2 = p.with_name("ident_t.json"); p2.write_text(json.dumps(doc))
print("load tampered (b marked vanished):")
g = load(p2)
if g is not None: print(g._engine.vanished, g._engine.boundary); print(g.coef_table())
# data C
d = pd.read_csv(R / "cov_vi_reference_tail/g3_C.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fc = mf.lmer("y ~ x + ar1(0 + occf | Subject)", d, reml=False, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    print("C fit", fc.loglik, dict(fc.residual.params), fc._engine.vanished); print(fc.coef_table())
p = pathlib.Path("/tmp/p14/rv20/c.json"); fc.save(p)
doc = json.loads(p.read_text()); print("vanished field:", doc["residual"]["vanished"])
doc["residual"]["vanished"]["values"] = [False] * len(doc["residual"]["vanished"]["values"])
p2 = p.with_name("c_t.json"); p2.write_text(json.dumps(doc))
print("load tampered (C, all cleared):")
g = load(p2)
if g is not None: print(g._engine.vanished, g._engine.boundary); print(g.coef_table())
