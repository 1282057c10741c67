"""Residual covariance structures: mixedfit vs nlme and glmmTMB, timed in one run (issue 12).

Simulates repeated measures (subjects × visits, a share of visits missing at random), fits

* ``ri-ar1``: random intercept + AR(1) residuals (nlme ``lme`` with ``corAR1``);
* ``un-gls``: unstructured residual covariance, no random effects (nlme ``gls`` with
  ``corSymm`` + ``varIdent``; glmmTMB ``us(visit + 0 | id)`` with ``dispformula = ~0``);

with mixedfit and (unless ``--no-r``) with R through ``Rscript``, and prints a Markdown table of
wall seconds and −2 REML log-likelihoods. ``--per-eval`` adds the cost of one evaluation of the
criterion at a new φ (AR(1), CS, VarIdent, no random effects) at 10⁴ and 10⁶ rows, fast path
(statistics computed once) against the whitening path, and at a tiny VarIdent ratio (the QR
evaluation) from pieces of fixed size against the row-wise QR.

Usage (from the repository root)::

    python benchmarks/residual.py                  # the table, R included
    python benchmarks/residual.py --no-r           # mixedfit only
    python benchmarks/residual.py --per-eval       # and the per-evaluation costs
    python benchmarks/residual.py --threads 1      # one BLAS thread (mixedfit and R)
    python benchmarks/residual.py --only ri-ar1 --rounds 7   # interleaved rounds vs nlme
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mixedfit as mf
from mixedfit.engine.residual import ResidualCriterion
from mixedfit.engine.residual.orthogonal import OrthogonalCriterion
from mixedfit.engine.residual.orthogonal_compact import CompactOrthogonal
from mixedfit.engine.reterm import ReTerm

R_FITS = {
    "ri-ar1": {
        "nlme": "nlme::lme(y ~ time * trt, random = ~ 1 | id, "
        "correlation = nlme::corAR1(form = ~ time | id), data = d, method = 'REML')",
    },
    "un-gls": {
        "nlme": "nlme::gls(y ~ visit * trt, correlation = nlme::corSymm(form = ~ vnum | id), "
        "weights = nlme::varIdent(form = ~ 1 | visit), data = d, method = 'REML')",
        "glmmTMB": "glmmTMB::glmmTMB(y ~ visit * trt + us(visit + 0 | id), dispformula = ~ 0, "
        "REML = TRUE, data = d)",
    },
}


def simulate(
    n_subjects: int = 2000, n_visits: int = 6, missing: float = 0.1, seed: int = 1
) -> pd.DataFrame:
    """Repeated measures: random intercept, AR(1) errors (ρ = 0.6) with sd rising over visits,
    a treatment effect growing with time; ``missing`` of the visits dropped at random."""
    rng = np.random.default_rng(seed)
    sid = np.repeat(np.arange(n_subjects), n_visits)
    time_ = np.tile(np.arange(1, n_visits + 1), n_subjects)
    trt = np.repeat(rng.integers(0, 2, n_subjects), n_visits)
    b = np.repeat(rng.normal(0.0, 1.0, n_subjects), n_visits)
    e = np.empty((n_subjects, n_visits))
    e[:, 0] = rng.normal(size=n_subjects)
    for t in range(1, n_visits):
        e[:, t] = 0.6 * e[:, t - 1] + 0.8 * rng.normal(size=n_subjects)
    sd = np.linspace(1.0, 2.0, n_visits)
    y = 1.0 + 0.3 * time_ + 0.5 * trt + 0.1 * time_ * trt + b + (e * sd).ravel()
    labels = [f"v{v}" for v in range(1, n_visits + 1)]
    df = pd.DataFrame(
        {
            "y": y,
            "id": [f"s{i}" for i in sid],
            "visit": pd.Categorical([f"v{v}" for v in time_], labels),
            "vnum": time_,
            "time": time_,
            "trt": trt,
        }
    )
    keep = rng.random(len(df)) >= missing
    return df[keep].reset_index(drop=True)


def mixedfit_fits(df: pd.DataFrame) -> dict[str, tuple[object, ...]]:
    return {
        "ri-ar1": (
            mf.lmer,
            "y ~ time * trt + (1|id)",
            df,
            {"residual": mf.AR1("time", "id")},
        ),
        "un-gls": (mf.gls, "y ~ visit * trt", df, {"residual": mf.Unstructured("visit", "id")}),
    }


def time_mixedfit(
    df: pd.DataFrame, repeat: int, which: list[str] | None = None
) -> dict[str, tuple[float, float, int]]:
    """Median seconds, −2 log-likelihood and evaluations of each model (one warm-up)."""
    out = {}
    for name, (fn, formula, data, kw) in mixedfit_fits(df).items():
        if which is not None and name not in which:
            continue
        fit = fn(formula, data, **kw)  # type: ignore[operator]
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fit = fn(formula, data, **kw)  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        out[name] = (statistics.median(times), -2.0 * fit.loglik, fit._engine.record.evaluations)
    return out


def time_r(df: pd.DataFrame, which: list[str]) -> dict[tuple[str, str], tuple[float, float]]:
    """Seconds and −2 log-likelihood of each R fit (one timed run; nlme's ``gls`` takes a
    minute)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        df.to_csv(path, index=False)
        lines = [
            "suppressMessages({library(nlme); library(glmmTMB)})",
            f"d <- read.csv('{path}')",
            "d$id <- factor(d$id); d$visit <- factor(d$visit, levels = sort(unique(d$visit)))",
        ]
        for model in which:
            for engine, call in R_FITS[model].items():
                lines += [
                    f"t <- system.time(f <- {call})[['elapsed']]",
                    f"cat(sprintf('RESULT %s %s %.6f %.10f\\n', '{model}', '{engine}', t, "
                    "-2 * as.numeric(logLik(f))))",
                ]
        script = Path(tmp) / "fit.R"
        script.write_text("\n".join(lines) + "\n")
        run = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=True)
    out = {}
    for line in run.stdout.splitlines():
        if line.startswith("RESULT"):
            _, model, engine, secs, dev = line.split()
            out[model, engine] = (float(secs), float(dev))
    return out


def per_evaluation(rows: list[int], n_visits: int = 5) -> pd.DataFrame:
    """Milliseconds per criterion evaluation at a new φ (θ empty: GLS), fast path (median of
    100) vs whitening (median of 5), and the set-up seconds of each."""
    records = []
    structures = {
        "AR(1)": lambda: mf.AR1("time", "id"),
        "CS": lambda: mf.CompoundSymmetry("id"),
        "VarIdent": lambda: mf.VarIdent("visit"),
    }
    for n in rows:
        df = simulate(n_subjects=n // n_visits, n_visits=n_visits, missing=0.0, seed=2)
        X = np.column_stack([np.ones(len(df)), df["time"], df["trt"]]).astype(float)
        y = df["y"].to_numpy(float)
        for name, make in structures.items():
            model = make().bind(df).model
            row: dict[str, object] = {"structure": name, "rows": len(df)}
            for path, fast, repeat in (("fast", True, 100), ("whitening", False, 5)):
                rng = np.random.default_rng(0)
                t0 = time.perf_counter()
                crit = ResidualCriterion([], X, y, model, fast=fast)
                row[f"{path} setup s"] = time.perf_counter() - t0
                crit.objective(model.start(), True)
                times = []
                for _ in range(repeat):
                    phi = rng.normal(0.0, 0.3, model.size)
                    t0 = time.perf_counter()
                    crit.objective(phi, True)
                    times.append(time.perf_counter() - t0)
                row[f"{path} ms/eval"] = 1e3 * statistics.median(times)
            records.append(row)
    return pd.DataFrame.from_records(records)


def per_evaluation_tiny(rows: list[int], n_visits: int = 5) -> pd.DataFrame:
    """Milliseconds per criterion evaluation at tiny VarIdent ratios (one visit's sd 1e-3 of the
    others': the QR evaluation), from pieces of fixed size (``orthogonal_compact``, median of
    50) vs the row-wise QR (``orthogonal``, median of 3); GLS and a random intercept, VarIdent
    alone and AR(1) & VarIdent; 10 % of the visits missing (up to 2⁵ patterns)."""
    records = []
    for n in rows:
        df = simulate(n_subjects=n // n_visits, n_visits=n_visits, missing=0.1, seed=2)
        X = np.column_stack([np.ones(len(df)), df["time"], df["trt"]]).astype(float)
        y = df["y"].to_numpy(float)
        refs = pd.factorize(df["id"])[0]
        intercept = ReTerm(refs, np.ones((len(df), 1)), int(refs.max()) + 1)
        for name, terms, make in (
            ("GLS VarIdent", [], lambda: mf.VarIdent("visit")),
            ("GLS AR(1) & VarIdent", [], lambda: mf.AR1("time", "id") & mf.VarIdent("visit")),
            ("RI + VarIdent", [intercept], lambda: mf.VarIdent("visit")),
            (
                "RI + AR(1) & VarIdent",
                [intercept],
                lambda: mf.AR1("time", "id") & mf.VarIdent("visit"),
            ),
        ):
            model = make().bind(df).model
            crit = ResidualCriterion(terms, X, y, model, fast=False)
            theta = np.ones(crit.n_theta)
            phi = model.start()
            phi[-1] = np.log(1e-3)  # the last visit's ratio
            t0 = time.perf_counter()
            compact = crit.orthogonal_at(phi)
            row: dict[str, object] = {"model": name, "rows": len(df)}
            row["compact setup s"] = time.perf_counter() - t0
            assert isinstance(compact, CompactOrthogonal)
            row["pieces (rows, cols, units)"] = str(compact.pieces_shape)
            row_wise = OrthogonalCriterion(terms, crit._M, crit.p, model)
            for path, crit_, repeat in (("compact", compact, 50), ("row-wise", row_wise, 3)):
                rng = np.random.default_rng(0)
                times = []
                for _ in range(repeat):
                    at = phi + np.concatenate([rng.normal(0.0, 0.1, phi.size - 1), [0.0]])
                    t0 = time.perf_counter()
                    crit_.objective(theta, at, True)
                    times.append(time.perf_counter() - t0)
                row[f"{path} ms/eval"] = 1e3 * statistics.median(times)
            records.append(row)
    return pd.DataFrame.from_records(records)


def interleaved(
    df: pd.DataFrame, which: list[str], rounds: int, repeat: int, path: Path | None
) -> int:
    """Rounds of (mixedfit: median of ``repeat`` calls; R: one timed call of each engine),
    printing each round and the medians of the seconds and of the per-round ratios."""
    log: dict[str, list[float]] = {}
    for k in range(rounds):
        py = time_mixedfit(df, repeat, which)
        r = time_r(df, which)
        for model in which:
            secs, dev, evals = py[model]
            log.setdefault(f"{model}/mixedfit", []).append(secs)
            line = f"round {k + 1} {model}: mixedfit {secs:.4f} s ({evals} evaluations, {dev:.4f})"
            for engine in R_FITS[model]:
                rs, rd = r[model, engine]
                log.setdefault(f"{model}/{engine}", []).append(rs)
                log.setdefault(f"{model}/{engine}/ratio", []).append(rs / secs)
                line += f"; {engine} {rs:.3f} s ({rd:.4f}) = {rs / secs:.1f}x"
            print(line, flush=True)
    print(f"\nmedians over {rounds} rounds (load average now {os.getloadavg()[0]:.2f}):")
    for key, values in log.items():
        print(f"  {key}: {statistics.median(values):.4f}")
    if path:
        path.write_text(json.dumps(log, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-r", action="store_true", help="skip the R fits")
    parser.add_argument("--only", default="ri-ar1,un-gls", help="models, comma-separated")
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--visits", type=int, default=6)
    parser.add_argument("--missing", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=5, help="timed mixedfit runs (median)")
    parser.add_argument("--per-eval", action="store_true", help="per-evaluation cost table")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--rounds", type=int, default=0, help="interleaved rounds (mixedfit, then R, per round)"
    )
    parser.add_argument(
        "--threads", type=int, help="BLAS threads of mixedfit and R (OPENBLAS/OMP/MKL_NUM_THREADS)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits

        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)  # for Rscript
        limits = threadpool_limits(args.threads)  # noqa: F841 (kept for the run)
    which = [m for m in args.only.split(",") if m]
    df = simulate(args.subjects, args.visits, args.missing)
    print(
        f"data: {args.subjects} subjects x {args.visits} visits, {args.missing:.0%} missing "
        f"-> {len(df)} rows; BLAS threads: {args.threads or 'default'}\n"
    )
    if args.rounds:
        return interleaved(df, which, args.rounds, args.repeat, args.json)
    py = time_mixedfit(df, args.repeat, which)
    r = {} if args.no_r else time_r(df, which)
    print("| model | engine | seconds | −2 REML loglik | mixedfit speed-up |")
    print("| --- | --- | ---: | ---: | ---: |")
    result: dict[str, object] = {}
    for model in which:
        secs, dev, evals = py[model]
        print(f"| {model} | mixedfit ({evals} evaluations) | {secs:.3f} | {dev:.4f} | |")
        result[f"{model}/mixedfit"] = {"seconds": secs, "deviance": dev, "evaluations": evals}
        for engine in R_FITS[model]:
            if (model, engine) in r:
                rs, rd = r[model, engine]
                print(f"| {model} | {engine} | {rs:.3f} | {rd:.4f} | {rs / secs:.1f}× |")
                result[f"{model}/{engine}"] = {"seconds": rs, "deviance": rd}
    if args.per_eval:
        table = per_evaluation([10_000, 1_000_000])
        print()
        print(table.to_markdown(index=False, floatfmt=".4g"))
        result["per_eval"] = table.to_dict(orient="records")
        tiny = per_evaluation_tiny([10_000, 1_000_000])
        print()
        print(tiny.to_markdown(index=False, floatfmt=".4g"))
        result["per_eval_tiny"] = tiny.to_dict(orient="records")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
