"""Issue 12 (lane scl, review rv28 MEDIUM): s7_div_point.json, the fit of s7 with y × 1e-3 as
:func:`mixedfit.engine.residual.rereference.reference_tail` got it.

Run on main 139412f from the repository root as
``python tests/reference/cov_rar1_reftail/make_s7_div_point.py``.
It fits s7.csv with y × 1e-3 (REML, ar1het with AR1 & VarIdent) and records the fit handed to
reference_tail: x = (θ, φ) in the engine's parameterization, its criterion and evaluations; and
the whole fit's ℓ and ratio b as main reports them (ℓ 2.07e-6 below R's, ratio b 1,124: the
refit with b the reference stopped there and its vanished verdict ended the tail's following).
ℓ with y × k shifts by −(n − p) ln k: R's supremum is s7_REML.json's "best" + (n − p) ln 1e3.
"""

import json
import warnings

import pandas as pd

import mixedfit as mf
import mixedfit.engine.residual.fit as fit_module

HERE = "tests/reference/cov_rar1_reftail/"
seen = []
tail = fit_module.reference_tail


def spy(fit, *args):  # type: ignore[no-untyped-def]
    seen.append(fit)
    return tail(fit, *args)


fit_module.reference_tail = spy
d = pd.read_csv(HERE + "s7.csv")
d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
d["y"] *= 1e-3
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    fit = mf.lmer(
        "y ~ x + ar1(0 + occf | Subject, hom=False)",
        d,
        residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
    )
first = seen[0]
out = {
    "scale": 1e-3,
    "x": first.record.theta.tolist(),
    "objective": first.objective,
    "evaluations": first.record.evaluations,
    "vanished": None if first.vanished is None else first.vanished.tolist(),
    "fit_loglik": fit.loglik,
    "fit_params": {k: float(v) for k, v in fit.residual.params.items()},
    "fit_evaluations": fit._engine.record.evaluations,
    "warnings": [f"{x.category.__name__}: {str(x.message)[:200]}" for x in w],
}
with open(HERE + "s7_div_point.json", "w") as fh:
    json.dump(out, fh, indent=1)
print(json.dumps(out)[:600])
