"""Lane attn: the fast path's cost per evaluation at 10⁴ vs 10⁶ rows, interleaved (the two
criteria built once, then evaluations alternating between them at the same new φ), so that the
machine's load drifts equally on both. GLS, X = [1, time, trt], 5 visits (benchmarks/residual.py's
per_evaluation data). Usage: PYTHONPATH=$PWD python notes/attn/per_eval_ab.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from residual import simulate

import mixedfit as mf
from mixedfit.engine.residual import ResidualCriterion


def main() -> None:
    print(f"load average at start: {os.getloadavg()}")
    structures = {
        "AR(1)": lambda: mf.AR1("time", "id"),
        "CS": lambda: mf.CompoundSymmetry("id"),
        "VarIdent": lambda: mf.VarIdent("visit"),
    }
    data = {n: simulate(n_subjects=n // 5, n_visits=5, missing=0.0, seed=2) for n in (10**4, 10**6)}
    for name, make in structures.items():
        crits = {}
        for n, df in data.items():
            X = np.column_stack([np.ones(len(df)), df["time"], df["trt"]]).astype(float)
            model = make().bind(df).model
            crits[n] = (ResidualCriterion([], X, df["y"].to_numpy(float), model), model)
            crits[n][0].objective(model.start(), True)
        times: dict[int, list[float]] = {n: [] for n in crits}
        rng = np.random.default_rng(0)
        for _ in range(500):
            phi = rng.normal(0.0, 0.3, crits[10**4][1].size)
            for n, (crit, _) in crits.items():
                t0 = time.perf_counter()
                crit.objective(phi, True)
                times[n].append(time.perf_counter() - t0)
        a, b = (1e3 * statistics.median(times[n]) for n in (10**4, 10**6))
        print(
            f"{name}: {a:.4f} ms at 10^4 rows, {b:.4f} ms at 10^6 rows (ratio {b / a:.2f}; "
            "medians of 500 interleaved)",
            flush=True,
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
