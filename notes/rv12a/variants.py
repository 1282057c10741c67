"""rv12a: edge fits under row order, y + c, and model variants."""
import sys, warnings
import numpy as np, pandas as pd
import mixedfit as mf
sys.path.insert(0, "/tmp/p11/rv12a")
from probe_edge import fit

def load(s):
    d = pd.read_csv(f"/tmp/p11/rv12a/rar1_s{s}.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d

def show(tag, f, ws, t):
    print(tag, "ll=%.8f" % f.loglik, "phi=", f.residual.params.get("Phi"), "beta", np.round(np.asarray(f.fixef), 7), "sigma %.7f" % f.sigma,
          "evals", f.optimizer.evaluations, "t=%.1f" % t, [w[0] + ":" + w[1][:40] for w in ws], flush=True)

if __name__ == "__main__":
    s = int(sys.argv[1]); reml = sys.argv[2] == "REML"; what = sys.argv[3].split(",")
    d = load(s)
    if "base" in what:
        show("base", *fit(d, reml=reml))
    if "perm" in what:
        for k in range(2):
            p = d.sample(frac=1, random_state=k).reset_index(drop=True)
            show(f"perm{k}", *fit(p, reml=reml))
    if "shift" in what:
        for c in (0.001, 10.0, -3.0):
            e = d.copy(); e["y"] = e["y"] + c
            show(f"y+{c}", *fit(e, reml=reml))
    if "scale" in what:
        e = d.copy(); e["y"] = e["y"] * 100
        f, ws, t = fit(e, reml=reml); show("y*100 (ll-n*log100)", f, ws, t)
        print("   ll adj = %.8f" % (f.loglik + (len(d) - (2 if reml else 0)) * np.log(100)))
    if "hom" in what:
        show("hom", *fit(d, formula="y ~ x + ar1(0 + occf | Subject)", reml=reml))
    if "cs" in what:
        show("cs", *fit(d, formula="y ~ x + cs(0 + occf | Subject, hom=False)", reml=reml))
    if "toep" in what:
        show("toep", *fit(d, formula="y ~ x + toep(0 + occf | Subject)", reml=reml))
    if "us" in what:
        show("us", *fit(d, formula="y ~ x + us(0 + occf | Subject)", reml=reml))
    if "vi" in what:
        d["grp"] = np.where(d["Subject"].str[1:].astype(int) % 2 == 0, "a", "b")
        show("AR1&VarIdent(grp)", *fit(d, reml=reml, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp")))
    if "miss" in what:
        e = d.drop(index=d.sample(frac=0.12, random_state=3).index).reset_index(drop=True)
        e.to_csv(f"/tmp/p11/rv12a/rar1_s{s}m.csv", index=False, float_format="%.17g")
        show("missing12%", *fit(e, reml=reml))
