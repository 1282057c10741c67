"""rv12a: non-lone structured fits (second starts): loglik and evaluations; run under main and f6d8708."""
import sys, time, warnings
import numpy as np, pandas as pd
import mixedfit as mf
R = "/work/rv12a/tests/reference/"

def item(n, shuffle=None, reml=True, formula="y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)"):
    d = pd.read_csv(R + f"limit_crossed/ar1hi_item{n}.csv", dtype={"subject": str})
    d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 9)])
    if shuffle is not None:
        d = d.sample(frac=1, random_state=shuffle).reset_index(drop=True)
    return formula, d, reml, None

def ox(formula, reml=True, shuffle=None, shift=0.0):
    d = pd.read_csv(R + "cov_oxboys/oxboys_miss.csv", dtype={"Subject": str})
    d["occf"] = pd.Categorical(d["occf"], categories=[f"v{i}" for i in range(1, 10)])
    d["height"] = d["height"] + shift
    if shuffle is not None:
        d = d.sample(frac=1, random_state=shuffle).reset_index(drop=True)
    return formula, d, reml, None

CASES = {
    "item7 ML": lambda: item(7, reml=False),
    "item7 shuffled": lambda: item(7, shuffle=5),
    "item3 REML": lambda: item(3),
    "item3 ML": lambda: item(3, reml=False),
    "item7 hom": lambda: item(7, formula="y ~ t + (1|item) + ar1(0 + tf|subject)"),
    "ox grp ML": lambda: ox("height ~ age + (1 | grp) + ar1(0 + occf | Subject, hom=False)", reml=False),
    "ox grp shuffled": lambda: ox("height ~ age + (1 | grp) + ar1(0 + occf | Subject, hom=False)", shuffle=2),
    "ox grp hom": lambda: ox("height ~ age + (1 | grp) + ar1(0 + occf | Subject)"),
    "ox nested int": lambda: ox("height ~ age + (1 | Subject) + ar1(0 + occf | Subject)"),
    "ox grp cs": lambda: ox("height ~ age + (1 | grp) + cs(0 + occf | Subject, hom=False)"),
}
if __name__ == "__main__":
    names = sys.argv[1].split("|") if len(sys.argv) > 1 else list(CASES)
    for name in names:
        formula, d, reml, res = CASES[name]()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            t = time.process_time()
            try:
                f = mf.lmer(formula, d, reml=reml)
            except Exception as e:
                print(name, "ERROR", type(e).__name__, str(e)[:100], flush=True); continue
            t = time.process_time() - t
        print(f"{name:18s} ll={f.loglik:.10f} evals={f.optimizer.evaluations} t={t:.1f}",
              sorted({w.category.__name__ + ':' + str(w.message)[:50] for w in seen}), flush=True)
