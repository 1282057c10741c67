"""Issue 12 (lane h1sc): h1_scaled_point.json, the by= fit of h1 (REML) with y × 1e-3 as the
partial refit stage got it on main 5fc317a.

Run from the repository root as ``python tests/reference/cov_by_ar1/make_h1_scaled_point.py``.
It fits h1.csv with y × 1e-3 and records the fit handed to ``partial_retry``
(engine/residual/partial.py): x = (θ, φ) in the engine's parameterization (a the reference),
its reported criterion and evaluations; and the whole fit's ℓ as main reports it
(1020.58702703174, converged: 2.44e-4 below R's −1.76051012047844 + (n − p)·ln 1e3). Its first
BOBYQA run had stopped on ftol_rel 1e-13·|−2ℓ| (2e-10 at −2ℓ ≈ −2041 against 1e-12 unscaled).
Also writes the data (h1_scaled.csv) and the fit's point in absolute terms
(h1_scaled_points.json) for
``Rscript by_dense.R h1_scaled.csv h1_scaled_points.json 1 > h1_scaled_by_REML.json``
(run in this directory: R's dense criterion at the point and its multistart maximum).
"""

import json
import warnings

import pandas as pd

import mixedfit as mf
import mixedfit.engine.residual.fit as fitting

HERE = "tests/reference/cov_by_ar1/"
seen = []
retry = fitting.partial_retry


def spy(fit, *args):  # type: ignore[no-untyped-def]
    seen.append(fit)
    return retry(fit, *args)


fitting.partial_retry = spy
d = pd.read_csv(HERE + "h1.csv")
d["y"] = d["y"] * 1e-3
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = mf.lmer(
        "y ~ x + ar1(0 + occf | Subject, hom=False)",
        d,
        reml=True,
        residual=mf.AR1("occ", "Subject", by="grp"),
    )
first = seen[0]
vc = fit.varcorr
sds = vc[(vc["grp"] == "Subject") & (vc["var2"].fillna("") == "")]["sdcor"].to_numpy()
rho = vc[(vc["grp"] == "Subject") & (vc["var2"].fillna("") != "")]["sdcor"].to_numpy()
p = fit.residual.params
out = {
    "x": first.record.theta.tolist(),
    "objective": first.objective,
    "evaluations": first.record.evaluations,
    "fit_loglik": fit.loglik,
    "fit_evaluations": fit._engine.record.evaluations,
}
point = {  # the fit's point in absolute terms, by_dense.R's points file
    "sd": sds[:5].tolist(),
    "rho": float(rho[0]),
    "rsd": [float(fit.sigma * p[g]) for g in "abc"],
    "phi": [float(p[f"{g}:Phi"]) for g in "abc"],
    "loglik": fit.loglik,
}
with open(HERE + "h1_scaled_point.json", "w") as fh:
    json.dump(out, fh, indent=1)
with open(HERE + "h1_scaled_points.json", "w") as fh:
    json.dump({"fit": point}, fh, indent=1)
d.to_csv(HERE + "h1_scaled.csv", index=False, float_format="%.17g")
print(json.dumps(out)[:600])
