"""Benchmark of fits from cross products (issue 14): a crossed users × items design with skewed
counts, simulated to Parquet files, fitted with ``mf.lmer("y ~ 1 + (1|user) + (1|item)", glob,
reml=False)``; reports the time of each pass, per evaluation, and the peak RSS, and checks the
objective against an in-memory fit of a subset (the subset fitted both in memory and from its
Parquet file).

    python benchmarks/scale.py                         # the issue's target: 2e7 rows, 1e5 × 1e4
    python benchmarks/scale.py --rows 2000000 --users 20000 --items 2000   # smaller

Run from the repository root with ``PYTHONPATH=$PWD``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.scale import compute_cross_products

FORMULA = "y ~ 1 + (1|user) + (1|item)"


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far (GB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def skewed(rng: np.random.Generator, levels: int, size: int, power: float) -> np.ndarray:
    """Level codes with Zipf-like counts (weight ∝ rank^-power), every level likely used."""
    w = np.arange(1, levels + 1, dtype=float) ** -power
    return rng.choice(levels, size=size, p=w / w.sum())


def simulate(out: Path, rows: int, users: int, items: int, files: int, seed: int = 1) -> None:
    """Write ``files`` Parquet files of rows (user, item, y)."""
    rng = np.random.default_rng(seed)
    u_eff = rng.normal(size=users) * 0.8
    i_eff = rng.normal(size=items) * 0.5
    per = rows // files
    for k in range(files):
        u = skewed(rng, users, per, 0.6)
        i = skewed(rng, items, per, 0.8)
        y = 3.0 + u_eff[u] + i_eff[i] + rng.normal(size=per)
        frame = pd.DataFrame({"user": u.astype(np.int64), "item": i.astype(np.int64), "y": y})
        frame.to_parquet(out / f"part{k:03d}.parquet", index=False)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--no-check", action="store_true", help="skip the in-memory subset check")
    args = parser.parse_args(argv)
    out = args.dir or Path(tempfile.mkdtemp(prefix="mixedfit-scale-"))
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {k: v for k, v in vars(args).items() if k != "dir"}
    t0 = time.perf_counter()
    if not list(out.glob("*.parquet")):
        simulate(out, args.rows, args.users, args.items, args.files)
    report["simulate_s"] = time.perf_counter() - t0
    marks: dict[str, float] = {}

    def progress(name: str, chunks: int, rows: int) -> None:
        marks[name] = time.perf_counter()

    t1 = time.perf_counter()
    cp = compute_cross_products(FORMULA, str(out / "*.parquet"), args.chunk_rows, progress)
    report["pass1_s"] = marks["pass 1"] - t1
    report["pass2_s"] = marks["pass 2"] - marks["pass 1"]
    report["finish_s"] = time.perf_counter() - marks["pass 2"]
    report["levels"] = [int(d.shape[0]) for d in cp.diag]
    report["rss_after_passes_gb"] = peak_rss_gb()
    t2 = time.perf_counter()
    fit = mf.lmer(FORMULA, cp, reml=False)
    fit_s = time.perf_counter() - t2
    evals = fit.optimizer.evaluations
    report.update(
        fit_s=fit_s,
        evaluations=evals,
        per_evaluation_s=fit_s / max(evals, 1),
        objective=fit.objective,
        theta=fit.theta.tolist(),
        peak_rss_gb=peak_rss_gb(),
    )
    if not args.no_check:  # a subset, fitted in memory and from its Parquet file
        first = sorted(out.glob("*.parquet"))[0]
        memory = mf.lmer(FORMULA, pd.read_parquet(first), reml=False)
        streamed = mf.lmer(FORMULA, str(first), reml=False)
        report["subset_rows"] = memory.nobs
        report["subset_objective_rel_diff"] = abs(streamed.objective - memory.objective) / abs(
            memory.objective
        )
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
