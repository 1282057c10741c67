"""The compiled kernel's cost per evaluation when numba compiled it in this process vs when it
was loaded from numba's on-disk cache (lane ortho, session 16).

Usage, from the repository root (mixedfit importable)::

    python notes/ortho16/cache_penalty.py [--pairs 3]

Each pair runs two worker processes on one new, empty ``NUMBA_CACHE_DIR``: the first compiles
every kernel (and writes the cache), the second loads them from it. A worker fits each model
once, takes the criterion of its (inner) factor and times ``evaluate_many`` on 500 θ near the
moment start (min over 200 batches). The machine code is the same (objdump of the loaded
function: only absolute addresses differ), yet the loaded kernel is slower.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

MODELS = {
    "sleepstudy": ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    "penicillin": ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
    "orthodont": ("Orthodont", "distance ~ age * Sex + (1 + age|Subject)"),
    "pastes": ("Pastes", "strength ~ 1 + (1|batch/cask)"),
}


def worker() -> None:
    import time

    import numpy as np

    import mixedfit as mf
    from mixedfit.engine import skeleton

    got: list = []
    original = skeleton.KernelLease.criterion

    def spy(self, factor, reml):  # type: ignore[no-untyped-def]
        found = original(self, factor, reml)
        got.append(found)
        return found

    skeleton.KernelLease.criterion = spy  # type: ignore[method-assign]
    out = {}
    for name, (data, formula) in MODELS.items():
        got.clear()
        mf.lmer(formula, mf.load_dataset(data))
        c = got[-1]
        n = c._layout.size
        thetas = np.abs(c._layout.start() + 0.05 * np.random.default_rng(0).standard_normal((500, n)))
        values = np.empty(500)
        times = []
        for _ in range(200):
            t = time.perf_counter()
            c._evaluate_many(thetas, c._fbuf, c._ibuf, values)
            times.append(time.perf_counter() - t)
        out[name] = min(times) / 500 * 1e6
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    for pair in range(args.pairs):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            for state in ("compiled", "loaded"):
                run = subprocess.run(
                    [sys.executable, __file__, "--worker"], env=env, capture_output=True,
                    text=True, check=True,
                )  # fmt: skip
                found = json.loads(run.stdout.strip().splitlines()[-1])
                cells = "  ".join(f"{k} {v:.2f}" for k, v in found.items())
                print(f"pair {pair} {state:8s} µs per evaluation: {cells}", flush=True)


if __name__ == "__main__":
    main()
