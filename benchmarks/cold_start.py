"""The cold start (issue 15): what the first fits after installing compile, and their CPU.

Runs a sleepstudy slopes fit, a Penicillin crossed fit and a two-replicate bootstrap in a fresh
process with an empty numba cache (``NUMBA_CACHE_DIR`` a new temporary directory), prints the
process's user CPU and, from numba's cache index of each compiled function of
:mod:`mixedfit.engine.jit_kernel`, :mod:`~mixedfit.engine.jit_start` and
:mod:`~mixedfit.engine.jit_refit`, how many signatures it compiled (numba compiles a function
again for every new argument type — an array's layout, read-only flag and dtype included — and
a function called only inside another is loaded with its caller, so ``dispatcher.signatures``
would not show it; the index lists every signature compiled for the current source). Session 16
(lane cold) made each one signature except ``_lu_solve`` (writable factors and the design's
read-only ones). Not a test: the suite's processes share one cache, where other tests compile
other layouts.

    python benchmarks/cold_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

CHILD = r"""
import json, warnings
import mixedfit as mf
with warnings.catch_warnings():
    warnings.simplefilter("ignore", mf.MixedFitWarning)
    fit = mf.lmer("Reaction ~ 1 + Days + (1 + Days | Subject)", mf.load_dataset("sleepstudy"))
    mf.lmer("diameter ~ 1 + (1 | plate) + (1 | sample)", mf.load_dataset("penicillin"))
    fit.bootstrap(nsim=2, seed=1)
from numba.core.registry import CPUDispatcher
from mixedfit.engine import jit_kernel, jit_refit, jit_start
out = {}
for module in (jit_kernel, jit_start, jit_refit):
    for name, value in vars(module).items():
        if isinstance(value, CPUDispatcher):
            index = value._cache._cache_file._load_index()  # {(signature, ...): file}
            out[module.__name__.rsplit(".", 1)[1] + "." + name] = len({k[0] for k in index})
print(json.dumps(out))
"""


def one_run() -> tuple[float, dict[str, int]]:
    """User CPU seconds of one cold process and its signatures per compiled function."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        done = subprocess.run(
            [sys.executable, "-c", CHILD], env=env, check=True, capture_output=True, text=True
        )
        user = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    return user, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for i in range(args.runs):
        user, signatures = one_run()
        extra = {k: v for k, v in signatures.items() if v > 1}
        n = len(signatures)
        print(f"run {i + 1}: {user:.1f} s user CPU, {n} functions, more than one: {extra}")


if __name__ == "__main__":
    main()
