"""The two fits tests/test_varident_relabel_edge.py hands to ``relabel.relabelled`` (session 17
lane trimB): the whole fit of g15_cab.csv (ML, c the reference) as ``fit_residual`` passes it to
``relabelled``, and the refit with a (the largest stratum) as the reference, each stored as its
point x = (θ, φ), criterion and optimizer record (floats written by repr: exact). The fit with
``max_evals=140_000`` on mixedfit a4010e8 (session 16's end): 68,293 + 61,708 evaluations,
~60 s of CPU. Run from the repository root (the folder's name shortened here):
``python <ref>/make_g15_points.py > <ref>/g15_cab_points.json``, <ref> =
``tests/reference/cov_vi_relabel``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _stored(fit: Any) -> dict[str, Any]:
    r = fit.record
    return {
        "theta": [float(v) for v in fit.theta],
        "phi": [float(v) for v in fit.phi],
        "objective": float(fit.objective),
        "reference": int(fit.model.variance.reference),
        "boundary": fit.boundary,
        "vanished": None if fit.vanished is None else [bool(v) for v in fit.vanished],
        "record": {
            "method": r.method,
            "evaluations": int(r.evaluations),
            "objective": float(r.objective),
            "x": [float(v) for v in np.asarray(r.theta, dtype=float)],
            "x_start": [float(v) for v in np.asarray(r.theta_start, dtype=float)],
            "converged": bool(r.converged),
            "message": r.message,
            "start": r.start,
        },
    }


def main() -> None:
    import mixedfit as mf
    import mixedfit.engine.residual.fit as residual_fit
    from mixedfit.engine.residual import relabel

    here = Path(__file__).parent
    d = pd.read_csv(here / "g15_cab.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    out: dict[str, Any] = {}

    def spied(fit: Any, terms: Any, X: Any, y: Any, refit: Any, *rest: Any) -> Any:
        out["fit"] = _stored(fit)

        def counted(model: Any) -> Any:
            second = refit(model)
            out["second"] = _stored(second)
            return second

        return relabel.relabelled(fit, terms, X, y, counted, *rest)

    residual_fit.relabelled = spied  # type: ignore[assignment]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=False,
            max_evals=140_000,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    out["reported"] = {"loglik": float(fit.loglik), "Phi": float(fit.residual.params["Phi"])}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
