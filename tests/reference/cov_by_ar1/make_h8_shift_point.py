"""Issue 12 (lane h8s): h8_shift_point.json, the by= fit of rv21's h8 (REML) with y + 1e3 and with
y × 1e3 as the partial refit stage got it on main 0579bd0.

Run from the repository root with main's code first on the path:
``PYTHONPATH=<main> python tests/reference/cov_by_ar1/make_h8_shift_point.py``.
With y + 1e3 main's first fit ran to the σ → 0 limit (θ ~ 1e4) and the stage got it there;
with y × 1e3 it got an inside fit with c vanished. Main's whole fits: ℓ −26.8868476 (y + 1e3,
the edge φ_b = 1) and −1049.2463444 (y × 1e3: −26.8985631 once 1e3's (n − p) log 1e3 is added);
R's maximum is −26.740053224 (h8_by_REML.json; the criterion's differences do not depend on y's
level or units). Recorded as make_h8_point.py does: x = (θ, φ) in the engine's parameterization,
the reported criterion, evaluations and vanished mask.
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
for name, shift, scale in (("plus1e3", 1e3, 1.0), ("times1e3", 0.0, 1e3)):
    d = pd.read_csv(HERE + "h8.csv")
    d["y"] = d["y"] * scale + shift
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
    out[name] = {
        "shift": shift,
        "scale": scale,
        "x": first.record.theta.tolist(),
        "objective": first.objective,
        "at_limit": first.at_limit,
        "evaluations": first.record.evaluations,
        "vanished": None if first.vanished is None else first.vanished.tolist(),
        "fit_loglik": fit.loglik,
        "fit_evaluations": fit._engine.record.evaluations,
    }
with open(HERE + "h8_shift_point.json", "w") as fh:
    json.dump(out, fh, indent=1)
print(json.dumps(out)[:800])
