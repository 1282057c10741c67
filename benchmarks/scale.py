"""Benchmark of fits from cross products (issue 14): a crossed users × items design with skewed
counts, simulated to Parquet files, fitted with ``mf.lmer("y ~ 1 + (1|user) + (1|item)", glob,
reml=False)``; reports the time of each pass, per evaluation, and the peak RSS, and checks the
objective against an in-memory fit of a subset (the subset fitted both in memory and from its
Parquet file).

    python benchmarks/scale.py                         # the issue's target: 2e7 rows, 1e5 × 1e4
    python benchmarks/scale.py --rows 2000000 --users 20000 --items 2000   # smaller
    python benchmarks/scale.py --preset ml32m --no-check  # 3e7 rows, 2e5 × 16,000 (ml-32m-like)

Progress goes to standard error as it runs, one line per pass and per evaluation (wall and CPU
seconds, current and peak RSS), so a long run's log shows how far it got; ``--out`` writes the
JSON report to a file as well. Run from the repository root with ``PYTHONPATH=$PWD``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.scale import compute_cross_products
from mixedfit.scale.progress import Event, Reporter
from mixedfit.scale_api import fit_statistics

FORMULA = "y ~ 1 + (1|user) + (1|item)"

# the ml-32m-like target: MovieLens 32M has 200,948 users; MixedModels.jl's benchmark
# keeps movies with at least 50 ratings (about 16,000)
PRESETS: dict[str, dict[str, int]] = {
    "ml32m": {"rows": 30_000_000, "users": 200_000, "items": 16_000, "files": 15},
}


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far (GB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def current_rss_gb() -> float:
    """Resident set size of this process now (GB)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**3


def log(message: str) -> None:
    """A progress line on standard error: UTC time, CPU seconds, RSS now and peak."""
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(
        f"[{stamp} cpu {time.process_time():8.1f} s rss {current_rss_gb():.2f} GB "
        f"peak {peak_rss_gb():.2f} GB load {os.getloadavg()[0]:.1f}] {message}",
        file=sys.stderr,
        flush=True,
    )


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
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    parser.add_argument("--no-check", action="store_true", help="skip the in-memory subset check")
    parser.add_argument(
        "--no-gradient", action="store_true", help="do not read fit.optimizer (its gradient)"
    )
    args = parser.parse_args(argv)
    if args.preset is not None:
        for key, value in PRESETS[args.preset].items():
            setattr(args, key, value)
    out = args.dir or Path(tempfile.mkdtemp(prefix="mixedfit-scale-"))
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {k: v for k, v in vars(args).items() if k not in ("dir", "out")}
    report["load_start"] = os.getloadavg()[0]
    t0 = time.perf_counter()
    if not list(out.glob("*.parquet")):
        log(f"simulating {args.rows} rows into {out}")
        simulate(out, args.rows, args.users, args.items, args.files)
    report["simulate_s"] = time.perf_counter() - t0
    marks: dict[str, float] = {}

    def progress(name: str, chunks: int, rows: int) -> None:
        marks[name] = time.perf_counter()
        log(f"{name}: {chunks} chunks, {rows} rows")

    t1, c1 = time.perf_counter(), time.process_time()
    cp = compute_cross_products(FORMULA, str(out / "*.parquet"), args.chunk_rows, progress)
    report["pass1_s"] = marks["pass 1"] - t1
    report["pass2_s"] = marks["pass 2"] - marks["pass 1"]
    report["finish_s"] = time.perf_counter() - marks["pass 2"]
    report["passes_cpu_s"] = time.process_time() - c1
    report["levels"] = [int(d.shape[0]) for d in cp.diag]
    report["rss_after_passes_gb"] = peak_rss_gb()
    log(f"passes done: levels {report['levels']}")
    t2, c2 = time.perf_counter(), time.process_time()
    last = [t2, c2]

    def evaluation(event: Event) -> None:
        if event.stage != "fit" or event.done:
            return
        now, cpu = time.perf_counter(), time.process_time()
        log(
            f"evaluation {event.count}: criterion {event.objective:.6f} best {event.best:.6f}; "
            f"this one {now - last[0]:.1f} s wall, {cpu - last[1]:.1f} s CPU"
        )
        last[:] = [now, cpu]

    fit = fit_statistics(cp, False, reporter=Reporter(callback=evaluation))
    fit_s, fit_cpu = time.perf_counter() - t2, time.process_time() - c2
    # the record itself: fit.optimizer (read below) adds the finite-difference gradient at θ̂
    # (2 evaluations per θ entry and one back at θ̂, on the fit's own factor: no more memory)
    evals = fit._engine.record.evaluations
    report.update(
        fit_s=fit_s,
        fit_cpu_s=fit_cpu,
        evaluations=evals,
        per_evaluation_s=fit_s / max(evals, 1),
        per_evaluation_cpu_s=fit_cpu / max(evals, 1),
        objective=fit.objective,
        theta=fit.theta.tolist(),
        peak_rss_gb=peak_rss_gb(),
        load_end=os.getloadavg()[0],
    )
    log(f"fit done: {evals} evaluations, objective {fit.objective:.6f}")
    if not args.no_gradient:  # fit.optimizer's gradient: on the fit's own factor, no clone
        t3, c3 = time.perf_counter(), time.process_time()
        report["optimizer_gradient"] = fit.optimizer.gradient.tolist()
        report["optimizer_s"] = time.perf_counter() - t3
        report["optimizer_cpu_s"] = time.process_time() - c3
        report["peak_rss_after_optimizer_gb"] = peak_rss_gb()
        log(f"fit.optimizer read: gradient {report['optimizer_gradient']}")
    del fit, cp  # the subset check's memory is its own: only the numbers are kept
    if not args.no_check:  # a subset, fitted in memory and from its Parquet file
        first = sorted(out.glob("*.parquet"))[0]
        report["rss_before_check_gb"] = current_rss_gb()
        t4 = time.perf_counter()
        memory = mf.lmer(FORMULA, pd.read_parquet(first), reml=False)
        report["subset_rows"] = memory.nobs
        report["subset_memory_objective"] = memory.objective
        report["subset_memory_s"] = time.perf_counter() - t4
        report["subset_memory_evaluations"] = memory._engine.record.evaluations
        report["peak_rss_after_memory_subset_gb"] = peak_rss_gb()
        log(f"in-memory subset fit done: objective {memory.objective!r}")
        del memory
        t5 = time.perf_counter()
        streamed = mf.lmer(FORMULA, str(first), reml=False)
        report["subset_streamed_objective"] = streamed.objective
        report["subset_streamed_s"] = time.perf_counter() - t5
        report["subset_streamed_evaluations"] = streamed._engine.record.evaluations
        memory_objective = float(report["subset_memory_objective"])  # type: ignore[arg-type]
        report["subset_objective_rel_diff"] = abs(streamed.objective - memory_objective) / abs(
            memory_objective
        )
        report["peak_rss_end_gb"] = peak_rss_gb()
        log(f"streamed subset fit done: objective {streamed.objective!r}")
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
