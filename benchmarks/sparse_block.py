"""Benchmark: a person × firm design whose second block is factored sparse (CHOLMOD).

A simulated AKM-like panel: persons observed for ~13 years each, each employed by one firm,
a quarter of them moving once (some twice) — mostly to a firm of the same region; firm sizes
skewed (log-normal). The model is ``y ~ 1 + x + (1|person) + (1|firm)`` (ML), fitted from arrays
by the engine (:func:`mixedfit.engine.lmm.fit_lmm`), with the second block chosen automatically.

Each size runs in its own process (peak RSS is per process)::

    python benchmarks/sparse_block.py --persons 200000 --firms 10000
    python benchmarks/sparse_block.py --persons 1500000 --firms 100000 --rows 20000000
    python benchmarks/sparse_block.py ... --evals 5         # time evaluations only, no fit

It prints one JSON line: the sizes, the symbolic fill (nnz of M's lower triangle and of its
Cholesky factor), the time of the cross products and of the symbolic analysis, the median time
per evaluation, the fit's evaluations and time, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import sys
import time

import numpy as np

from mixedfit.engine.factor import BlockedFactor
from mixedfit.engine.lmm import fit_lmm
from mixedfit.engine.reterm import ReTerm
from mixedfit.engine.sparse import fill_fraction, second_block
from mixedfit.engine.threads import single_threaded


def simulate(
    persons: int, firms: int, rows: int, regions: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Person codes, firm codes, x and y of a simulated panel (``rows`` rows)."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0.0, 1.2, firms)  # firm size weights (skewed)
    region = rng.integers(0, regions, firms)
    order = np.argsort(region, kind="stable")
    starts = np.searchsorted(region[order], np.arange(regions + 1))
    cum = [np.cumsum(size[order[a:b]]) for a, b in itertools.pairwise(starts)]

    def draw_in(reg: np.ndarray) -> np.ndarray:
        out = np.empty(len(reg), dtype=np.int64)
        for r in np.unique(reg):
            sel = np.flatnonzero(reg == r)
            c = cum[r]
            pick = np.searchsorted(c, rng.uniform(0, c[-1], len(sel)))
            out[sel] = order[starts[r] + np.minimum(pick, len(c) - 1)]
        return out

    global_cum = np.cumsum(size)
    home = draw_in(rng.integers(0, regions, persons))  # first firm
    moves = rng.uniform(size=persons)
    n_firms = 1 + (moves < 0.25) + (moves < 0.05)  # 75 % stay, 20 % move once, 5 % twice
    jobs = [home]
    for extra in (2, 3):
        movers = np.flatnonzero(n_firms >= extra)
        same = rng.uniform(size=len(movers)) < 0.9
        dest = np.empty(len(movers), dtype=np.int64)
        dest[same] = draw_in(region[home[movers[same]]])
        anywhere = rng.uniform(0, global_cum[-1], int((~same).sum()))
        dest[~same] = np.minimum(np.searchsorted(global_cum, anywhere), firms - 1)
        job = home.copy()
        job[movers] = dest
        jobs.append(job)
    # rows: persons drawn by rows, each row's spell chosen among the person's jobs
    person = np.sort(rng.integers(0, persons, rows))
    spell = np.minimum((rng.uniform(size=rows) * n_firms[person]).astype(np.int64), 2)
    firm = np.choose(spell, [j[person] for j in jobs])
    x = rng.normal(size=rows)
    y = (
        1.0
        + 0.3 * x
        + rng.normal(size=persons)[person]
        + 0.5 * rng.normal(size=firms)[firm]
        + rng.normal(size=rows)
    )
    return person, firm, x, y


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--firms", type=int, default=10_000)
    ap.add_argument("--rows", type=int, default=0, help="default: 13.3 per person")
    ap.add_argument("--regions", type=int, default=0, help="default: firms / 100")
    ap.add_argument("--evals", type=int, default=0, help="time this many evaluations, no fit")
    ap.add_argument("--symbolic", action="store_true", help="the analysis only: no evaluation")
    ap.add_argument("--mode", default="auto", choices=["auto", "dense", "sparse"])
    args = ap.parse_args()
    rows = args.rows or round(13.33 * args.persons)
    regions = args.regions or max(1, args.firms // 100)
    out: dict[str, object] = {
        "persons": args.persons,
        "firms": args.firms,
        "rows": rows,
        "regions": regions,
        "load": os.getloadavg()[0],
    }
    t0 = time.perf_counter()
    person, firm, x, y = simulate(args.persons, args.firms, rows, regions)
    out["simulate_s"] = round(time.perf_counter() - t0, 1)
    # codes of the levels that occur (as the design would give them)
    _, person = np.unique(person, return_inverse=True)
    firms_seen, firm = np.unique(firm, return_inverse=True)
    ones = np.ones((rows, 1))
    terms = [
        ReTerm(person.ravel(), ones, int(person.max()) + 1),
        ReTerm(firm.ravel(), ones, len(firms_seen)),
    ]
    X = np.column_stack([np.ones(rows), x])
    out["firms_seen"] = len(firms_seen)
    out["dense_L22_GB"] = round(8.0 * len(firms_seen) ** 2 / 1e9, 2)
    with single_threaded(), second_block(args.mode):
        if args.evals or args.symbolic:
            t0 = time.perf_counter()
            factor = BlockedFactor(terms, X, y)
            out["setup_s"] = round(time.perf_counter() - t0, 1)
            _describe(factor, out)
            times = []
            for theta in np.linspace(0.4, 0.8, 0 if args.symbolic else args.evals):
                t0 = time.perf_counter()
                factor.objective(np.array([1.0, theta]), reml=False)
                times.append(time.perf_counter() - t0)
            out["eval_s_median"] = round(float(np.median(times)), 3) if times else None
            out["eval_s_all"] = [round(t, 3) for t in times]
        else:
            t0 = time.perf_counter()
            start = time.perf_counter()

            def progress(evals: int, value: float, best: float) -> None:
                elapsed = time.perf_counter() - start
                print(f"{evals} {value:.6f} {best:.6f} {elapsed:.1f}s", file=sys.stderr, flush=True)

            fit = fit_lmm(terms, X, y, reml=False, progress=progress)
            out["fit_s"] = round(time.perf_counter() - t0, 1)
            out["evaluations"] = fit.record.evaluations
            out["theta"] = [float(v) for v in fit.theta]
            out["objective"] = float(fit.objective)
            out["beta"] = [float(v) for v in fit.solution.beta]
            _describe(fit.factor, out)
            factor = fit.factor.clone()
            times = []
            for scale in (0.9, 1.0, 1.1):
                t0 = time.perf_counter()
                factor.objective(fit.theta * scale, reml=False)
                times.append(time.perf_counter() - t0)
            out["eval_s_median"] = round(float(np.median(times)), 3)
    out["peak_rss_GB"] = round(peak_rss_gb(), 2)
    json.dump(out, sys.stdout)
    print()


def _describe(factor: BlockedFactor, out: dict[str, object]) -> None:
    plan = factor.sparse_plan
    out["second_block"] = "dense" if plan is None else "sparse"
    if plan is not None:
        out["nnz_M"] = plan.nnz
        out["nnz_L"] = plan.nnz_factor
        out["fill_L"] = round(fill_fraction(plan), 5)
        out["pairs"] = len(plan.first)
        out["factor_Gflop"] = round(plan.factor_flops / 1e9, 2)


if __name__ == "__main__":
    main()
