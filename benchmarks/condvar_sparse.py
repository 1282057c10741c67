"""Benchmark: conditional variances of the BLUPs with a sparse second block (issue 14).

The AKM-like person × firm panel of ``sparse_block.py``, ``(1|person) + (1|firm)``, the second
block forced sparse; at θ = (1, 0.5) it times one evaluation and the conditional variances, from
the selected inverse (:mod:`mixedfit.engine.selinv`, numba; compiled by a first call outside the
timing) or, with ``--solves``, from one solve with the factor per level (the fallback without
numba, the only path before). CPU seconds (``time.process_time``), the load average next to
them::

    python benchmarks/condvar_sparse.py --persons 100000 --firms 5000
    python benchmarks/condvar_sparse.py --persons 100000 --firms 5000 --solves

It prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
from sparse_block import simulate

from mixedfit.engine import selinv
from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.reterm import ReTerm
from mixedfit.engine.solution import conditional_variances
from mixedfit.engine.sparse import second_block
from mixedfit.engine.threads import single_threaded


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--firms", type=int, default=5_000)
    ap.add_argument("--solves", action="store_true", help="the solves per level (no numba)")
    args = ap.parse_args()
    rows = round(13.33 * args.persons)
    person, firm, x, y = simulate(args.persons, args.firms, rows, max(1, args.firms // 100))
    _, person = np.unique(person, return_inverse=True)
    firms_seen, firm = np.unique(firm, return_inverse=True)
    ones = np.ones((rows, 1))
    terms = [
        ReTerm(person.ravel(), ones, int(person.max()) + 1),
        ReTerm(firm.ravel(), ones, len(firms_seen)),
    ]
    X = np.column_stack([np.ones(rows), x])
    theta = np.array([1.0, 0.5])
    with single_threaded(), second_block("sparse"):
        factor = BlockedFactor(terms, X, y)
        t0 = time.process_time()
        factor.objective(theta, reml=False)
        evaluation = time.process_time() - t0
        if args.solves:
            selinv._KERNEL[:] = [None]
        else:
            conditional_variances(factor, theta * 1.1, 1.0)  # compiles the recurrence
        t0 = time.process_time()
        conditional_variances(factor, theta, 1.0)
        condvar = time.process_time() - t0
    plan = factor.sparse_plan
    out = {
        "persons": args.persons,
        "firms": len(firms_seen),
        "rows": rows,
        "nnz_factor": None if plan is None else plan.nnz_factor,
        "method": "solves" if args.solves else "selected inverse",
        "evaluation_cpu_s": round(evaluation, 3),
        "condvar_cpu_s": round(condvar, 3),
        "load": round(os.getloadavg()[0], 1),
        "peak_rss_GB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
