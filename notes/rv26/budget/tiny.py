import warnings, sys, json
import pandas as pd, mixedfit as mf
REF = "/work/wt-rv26/tests/reference"
def show(label, f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fit = f()
            print(f"{label:28s} l={fit.loglik:.10f} ev={fit.optimizer.evaluations} conv={fit.optimizer.converged} params={ {k: round(float(v), 5) for k, v in fit.residual.params.items()} } {[x.category.__name__ + ': ' + str(x.message)[:90] for x in w]}", flush=True)
        except Exception as e:
            print(label, "ERROR", type(e).__name__, str(e)[:200], flush=True)
d7 = pd.read_csv(f"{REF}/cov_cs_exact/cs_near0_1e-07.csv")
for me in (5, 12, 30, 60):
    show(f"cs near 1e-7 max_evals={me}", lambda: mf.gls("y ~ x", d7, residual=mf.CompoundSymmetry("g"), max_evals=me))
h3 = pd.read_csv(f"{REF}/cov_by_ar1/h3.csv"); h3["occf"] = pd.Categorical(h3["occf"], categories=[f"o{j}" for j in range(1, 6)])
for me in [int(a) for a in sys.argv[1:]]:
    show(f"h3 by= max_evals={me}", lambda: mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", h3, residual=mf.AR1("occ", "Subject", by="grp"), max_evals=me))
