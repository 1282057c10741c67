"""Lane floor: the numpy dense ℓ (tests/test_varident_stress_ll._dense_loglik) at R's optima,
and at mixedfit's reported estimates, for the span seeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path.insert(0, "tests")
from test_varident_stress_ll import _dense_loglik


def at(s: float, rho: float, phi: float, b: float) -> SimpleNamespace:
    return SimpleNamespace(
        theta=np.array([s, rho]), residual=SimpleNamespace(params={"Phi": phi, "a": 1.0, "b": b})
    )


for seed in [int(a) for a in sys.argv[1:]]:
    d = pd.read_csv(f"notes/floor/span_s{seed}.csv")
    r = json.loads(Path(f"notes/floor/span_s{seed}_R.json").read_text())
    p = r["interior_par"]
    s, rho, b, phi = np.exp(p[0]), np.tanh(p[1]), np.exp(p[2]), np.tanh(p[3])
    print(
        seed,
        "R interior",
        r["interior"],
        "numpy",
        _dense_loglik(d, at(s, rho, phi, b)),
        f"s {s:.6g} rho {rho:.6g} b {b:.3g} phi {phi:.6g}",
    )
    for bb in (1e-10, 2e-4, 1e-3, 1e-2):
        print("   b ->", bb, _dense_loglik(d, at(s, rho, phi, bb)))
