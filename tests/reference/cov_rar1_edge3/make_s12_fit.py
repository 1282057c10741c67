"""The saved fit tests/test_residual_edge_settled.py refits (session 17 lane trimB): seed 12
(``rar1_s12.csv``), ``y ~ x + ar1(0 + occf | Subject, hom=False)`` with
``residual=AR1("occ", "Subject")``, REML, reported at the edge φ = −1 (mixedfit a4010e8), saved
by ``fit.save``. The test loads it (its estimates exactly the fit's) and refits it to
``refit9on12.csv``'s y, as it refitted the fit itself (a warm start from the estimates), without
the ~5 s of CPU of that fit. Run from the repository root:
``python tests/reference/cov_rar1_edge3/make_s12_fit.py`` (writes ``s12_edge_fit.json`` here).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd


def main() -> None:
    import mixedfit as mf

    here = Path(__file__).parent
    d = pd.read_csv(here / "rar1_s12.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=True,
            residual=mf.AR1("occ", "Subject"),
        )
    assert fit.residual.params["Phi"] == -1.0  # an edge fit
    fit.save(here / "s12_edge_fit.json")


if __name__ == "__main__":
    main()
