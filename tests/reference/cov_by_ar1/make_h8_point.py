"""Issue 12 (lane byh8): h8_point.json, the by= fit of rv21's h8 (REML) as the partial refit stage
got it, in both label orders.

Run on main be50091 from the repository root as
``python tests/reference/cov_by_ar1/make_h8_point.py``.
For the written labels (a, b, c; a the reference) and with a renamed "z" (b the reference) it
fits h8.csv and records the fit handed to ``partial_retry`` (engine/residual/partial.py):
x = (θ, φ) in the engine's parameterization, its reported criterion, evaluations and vanished
mask; and the whole fit's ℓ and evaluations as main reports them (−26.8868476 at the edge φ_b = 1;
−26.8981349 with b the reference). R's maximum: h8_by_REML.json (−26.740053224, a vanishing).
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
out = {}
for order, names in (("abc", {"a": "a"}), ("zbc", {"a": "z"})):
    d = pd.read_csv(HERE + "h8.csv")
    d["grp"] = d["grp"].replace(names)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    seen.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=True,
            residual=mf.AR1("occ", "Subject", by="grp"),
        )
    first = seen[0]
    out[order] = {
        "x": first.record.theta.tolist(),
        "objective": first.objective,
        "evaluations": first.record.evaluations,
        "vanished": None if first.vanished is None else first.vanished.tolist(),
        "fit_loglik": fit.loglik,
        "fit_evaluations": fit._engine.record.evaluations,
    }
with open(HERE + "h8_point.json", "w") as fh:
    json.dump(out, fh, indent=1)
print(json.dumps(out)[:600])
