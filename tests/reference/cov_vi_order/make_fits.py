"""The saved fits tests/test_residual_df_order.py computes its df on (session 17 lane trimB):
``y ~ x + ar1(0 + occf | Subject, hom=False)``, ``residual=AR1("occ", "Subject") &
VarIdent("grp")``, ML, fitted on mixedfit a4010e8 and saved by ``fit.save`` as
``<seed>_<order>_fit.json`` (m0 ab, m0 ba, m3 ba, m2 ab; order ba: b's subjects first, b nlme's
reference). Each saved fit is loaded back and its Satterthwaite coef_table checked equal to the
fitted one's (printed: the largest difference of df and standard errors, 0 expected). Run from
the repository root: ``python tests/reference/cov_vi_order/make_fits.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
CASES = [("m0", "ab"), ("m0", "ba"), ("m3", "ba"), ("m2", "ab")]


def data(name: str, order: str) -> pd.DataFrame:
    """The test's data of (seed, order) (m3: ../cov_rar1_swapref/m3.csv)."""
    folder = HERE.parent / "cov_rar1_swapref" if name == "m3" else HERE
    d = pd.read_csv(folder / f"{name}.csv")
    assert set(d["grp"]) == {"a", "b"} and d["grp"].iloc[0] == "a"  # as written: a the reference
    if order == "ba":  # b's subjects first: b is nlme's reference (the first level in data order)
        d["Subject"] = np.where(d["grp"] == "b", "A", "B") + d["Subject"]
        d = d.sort_values(["Subject", "occ"], kind="stable").reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    return d


def main() -> None:
    import mixedfit as mf

    for name, order in CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = mf.lmer(
                "y ~ x + ar1(0 + occf | Subject, hom=False)",
                data(name, order),
                reml=False,
                residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
            )
            table = fit.coef_table(ddf="satterthwaite")
            path = HERE / f"{name}_{order}_fit.json"
            fit.save(path)
            again = mf.load_fit(path)
            other = again.coef_table(ddf="satterthwaite")
        diff = max(
            float(np.max(np.abs(table[c].to_numpy() - other[c].to_numpy())))
            for c in ("df", "std_error", "estimate")
        )
        print(name, order, fit.loglik, again.loglik, diff)


if __name__ == "__main__":
    main()
