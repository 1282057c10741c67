"""Unstructured residual covariance with many visits: BOBYQA vs the analytic gradient (issue 12).

Simulates ``--subjects`` × ``--visits`` repeated measures (``benchmarks/residual.py``'s
simulation, 10 % of the visits missing) and fits ``y ~ visit * trt`` by REML with
``mf.Unstructured("visit", "id")`` (no random effects; 10 visits: 54 structure parameters + σ²)

* before: BOBYQA over φ (derivative-free, restarted from its optimum: ``engine/residual/fit.py``),
  forced by raising :data:`mixedfit.engine.residual.gradient_fit.GRADIENT_MIN_PARAMS`;
* after: L-BFGS-B with the analytic gradient (``engine/residual/gradient.py`` and
  ``gradient_fit.py``), the default;

interleaved, ``--repeat`` rounds of each (medians), with the evaluations and the −2 REML
log-likelihood of each; then (unless ``--no-r``) nlme ``gls`` (``corSymm`` + ``varIdent``) and
glmmTMB ``us(visit + 0 | id)`` with ``dispformula = ~0``, each in its own Rscript capped at
``--cap`` seconds (a timeout is reported as such).

Usage (from the repository root)::

    python benchmarks/residual_un.py                    # 2000 x 10, R included
    python benchmarks/residual_un.py --no-r --repeat 3  # mixedfit only
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import mixedfit as mf
import mixedfit.engine.residual.gradient_fit as gradient_fit

sys.path.insert(0, str(Path(__file__).parent))
from residual import simulate

FORMULA = "y ~ visit * trt"
R_FITS = {
    "nlme gls": "nlme::gls(y ~ visit * trt, correlation = nlme::corSymm(form = ~ vnum | id), "
    "weights = nlme::varIdent(form = ~ 1 | visit), data = d, method = 'REML')",
    "glmmTMB us": "glmmTMB::glmmTMB(y ~ visit * trt + us(visit + 0 | id), dispformula = ~ 0, "
    "REML = TRUE, data = d)",
}


def fit_once(df: pd.DataFrame, gradient_on: bool) -> tuple[float, float, float, int, str]:
    """Wall and CPU seconds, −2 REML log-likelihood, evaluations and method of one fit (CPU
    time: on a shared machine, wall time mostly measures the other processes)."""
    saved = gradient_fit.GRADIENT_MIN_PARAMS
    gradient_fit.GRADIENT_MIN_PARAMS = saved if gradient_on else 10**9
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0, c0 = time.perf_counter(), time.process_time()
            fit = mf.gls(FORMULA, df, residual=mf.Unstructured("visit", "id"))
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        gradient_fit.GRADIENT_MIN_PARAMS = saved
    record = fit._engine.record
    return secs, cpu, -2.0 * fit.loglik, record.evaluations, record.method


def time_mixedfit(df: pd.DataFrame, repeat: int) -> dict[str, dict[str, object]]:
    """Interleaved rounds of both optimizers (after one warm-up fit each)."""
    runs: dict[str, list[tuple[float, float, float, int, str]]] = {"before": [], "after": []}
    for key in runs:
        fit_once(df, key == "after")
    for _ in range(repeat):
        for key in runs:
            runs[key].append(fit_once(df, key == "after"))
    out = {}
    for key, rows in runs.items():
        out[key] = {
            "seconds": statistics.median(r[0] for r in rows),
            "cpu": statistics.median(r[1] for r in rows),
            "deviance": rows[-1][2],
            "evaluations": rows[-1][3],
            "method": rows[-1][4],
        }
    return out


def time_r(df: pd.DataFrame, cap: float) -> dict[str, dict[str, object]]:
    """Seconds and −2 REML log-likelihood of each R fit, or the timeout."""
    out: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        df.to_csv(path, index=False)
        for engine, call in R_FITS.items():
            script = Path(tmp) / "fit.R"
            script.write_text(
                "suppressMessages({library(nlme); library(glmmTMB)})\n"
                f"d <- read.csv('{path}')\n"
                "d$id <- factor(d$id)\n"
                "d$visit <- factor(d$visit, levels = unique(d$visit[order(d$vnum)]))\n"
                f"t <- system.time(f <- {call})\n"
                "cat(sprintf('RESULT %.6f %.6f %.10f\\n', t[['elapsed']], "
                "t[['user.self']] + t[['sys.self']], -2 * as.numeric(logLik(f))))\n"
            )
            try:
                run = subprocess.run(
                    ["Rscript", str(script)], capture_output=True, text=True, timeout=cap
                )
            except subprocess.TimeoutExpired:
                out[engine] = {"seconds": None, "deviance": None, "note": f"timeout > {cap:g} s"}
                continue
            lines = [x for x in run.stdout.splitlines() if x.startswith("RESULT")]
            if not lines:
                out[engine] = {"seconds": None, "deviance": None, "note": run.stderr[-300:]}
                continue
            _, secs, cpu, dev = lines[0].split()
            out[engine] = {"seconds": float(secs), "cpu": float(cpu), "deviance": float(dev)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--visits", type=int, default=10)
    parser.add_argument("--missing", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (medians)")
    parser.add_argument("--no-r", action="store_true", help="skip the R fits")
    parser.add_argument("--cap", type=float, default=900.0, help="seconds per R fit")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    df = simulate(args.subjects, args.visits, args.missing)
    print(
        f"data: {args.subjects} subjects x {args.visits} visits, {args.missing:.0%} missing "
        f"-> {len(df)} rows\n"
    )
    result: dict[str, dict[str, object]] = {}
    for key, row in time_mixedfit(df, args.repeat).items():
        result[f"mixedfit {key}"] = row
    if not args.no_r:
        result.update(time_r(df, args.cap))
    after = result["mixedfit after"]["cpu"]
    assert isinstance(after, float)
    print("| engine | wall s | CPU s | evaluations | −2 REML loglik | CPU vs mixedfit after |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in result.items():
        secs, cpu, dev = row.get("seconds"), row.get("cpu"), row.get("deviance")
        s = f"{secs:.3f}" if isinstance(secs, float) else str(row.get("note", "—"))
        c = f"{cpu:.3f}" if isinstance(cpu, float) else "—"
        d = f"{dev:.4f}" if isinstance(dev, float) else "—"
        ratio = f"{cpu / after:.1f}×" if isinstance(cpu, float) else "—"
        label = f"{name} ({row['method']})" if "method" in row else name
        print(f"| {label} | {s} | {c} | {row.get('evaluations', '')} | {d} | {ratio} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
