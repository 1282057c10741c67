"""Fits saved by mixedfit before nlme's reference level (the commit before the 'ref' merge,
76e4278^1 = b88a6dd), kept as fixtures of tests/test_load_old_reference.py.

Run from a detached worktree of that commit (the cases' data: tests/reference/cov_ref/)::

    git worktree add --detach /tmp/old b88a6dd
    PYTHONPATH=/tmp/old python tests/reference/cov_oldfiles/make_old_files.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
REF = HERE.parent / "cov_ref"
CASES = (
    "A_sleep_ri_varident",
    "C_rm_site_car1_varident",
    "D_rm_gls_un_ml",
    "D_rm_gls_csh_reml",
    "D_rm_site_un_reml",
)


def main() -> None:
    import mixedfit as mf

    cases = json.loads((REF / "cov_ref.json").read_text())
    for name in CASES:
        ref = cases[name]
        df = pd.read_csv(REF / ref["data"], dtype={k: str for k in ref["levels"]})
        for column, levels in ref["levels"].items():
            df[column] = pd.Categorical(df[column], categories=levels)
        py = ref["python"]
        structure = eval(py["residual"], {"mf": mf})  # trusted: the reference's spelling
        fit = mf.lmer(py["formula"], df, reml=py["reml"], residual=structure)
        fit.save(HERE / f"{name}.json")
        print(name, fit.sigma, dict(fit.residual.params))


if __name__ == "__main__":
    main()
