import os, tempfile, warnings, sys
import pandas as pd, mixedfit as mf
warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1] + "/tests/reference/cov_probe/vanishing.csv")
f = mf.lmer("y ~ stratum + (1|subject)", df, residual=mf.VarIdent("stratum"))
print("loglik", f.loglik, dict(f.residual.params))
for name, fn in [("tidy", lambda: f.tidy().shape), ("emmeans", lambda: f.emmeans("stratum").shape)]:
    try: print(name, fn())
    except Exception as e: print(name, "EXC", type(e).__name__, str(e)[:120])
p = os.path.join(tempfile.mkdtemp(), "x.mfit"); f.save(p)
try: g = mf.load_fit(p); print("reload ok", g.loglik == f.loglik)
except Exception as e: print("reload EXC", str(e)[:250])
