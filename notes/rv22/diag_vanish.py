"""rv22: why a saved fit's verdict is refused on load: the load's flat test at the saved point vs the fit's values.
Usage: diag_vanish.py kind:strata:method:seed:order ..."""
import sys, math, warnings, numpy as np, pandas as pd
import mixedfit as mf
from mixedfit.engine.residual import vanished
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.model.fit import engine_terms
FORM = {"ar1": "y ~ x + ar1(0 + occf | Subject, hom=False)", "toep": "y ~ x + toep(0 + occf | Subject, hom=False)"}
def data(seed, strata, order):
    d = pd.read_csv(f"/work/main/notes/rv15/data/plain_{seed}.csv")
    num = d["Subject"].str[1:].astype(int)
    d["grp"] = np.where(num % 2 == 0, "a", "b") if strata == "2" else np.array(["a", "b", "c"])[num % 3]
    rank = {g: i for i, g in enumerate(order)}
    d["Subject"] = [chr(65 + rank[g]) + s for s, g in zip(d["Subject"], d["grp"])]
    d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d
for job in sys.argv[1:]:
    kind, strata, method, seed, order = job.split(":")
    reml = method == "reml"
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        fit = mf.lmer(FORM[kind], data(int(seed), strata, order), reml=reml, residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))
    e = fit._engine; d = fit._design
    crit = ResidualCriterion(engine_terms(d), d.X, d.y - d.offset, e.model)
    x = np.concatenate([e.theta, e.phi]).astype(float); n_theta = len(e.theta)
    fun = lambda z: crit.objective(z, reml)
    mask = np.zeros(x.size, bool); mask[n_theta:] = e.model.vanishing(x[n_theta:])
    moved = np.where(mask, x - vanished.STEP, x)
    print(job, "record:", e.record.message[:150], "| converged", e.record.converged, "| start", getattr(e.record, "start", None))
    print("  phi", np.round(e.phi, 4).tolist(), "vanishing mask(phi)", mask[n_theta:].tolist(), "fit verdict", None if e.vanished is None else np.asarray(e.vanished)[n_theta:].tolist())
    f0, f1 = fun(x), fun(moved)
    print(f"  stored objective {e.objective:.12f} fun(x) {f0:.12f} (diff {f0 - e.objective:+.2e}) fun(moved) {f1:.12f}  moved-stored {f1 - e.objective:+.3e} tolerance {vanished.tolerance(e.model.n):.1e}")
    print("  reloaded:", vanished.reloaded(fun, e.model, n_theta, x, e.objective)[n_theta:].tolist())
    # the ratio path: fun along the vanishing ratio
    for k in range(1, 5):
        z = np.where(mask, x - k * vanished.STEP, x); print(f"   step ÷10^{k}: {fun(z) - e.objective:+.3e}")
