"""Small models against the peers, in one run (issue 15): mixedfit, glmm, mixedlm, statsmodels,
lme4.

Usage (from the repository root, mixedfit, glmm, mixedlm and statsmodels installed, R with
lme4)::

    python benchmarks/peers.py [--rounds 200] [--blocks 3] [--nsim 1000] [--output FILE]

What is timed, per model (sleepstudy slopes, Penicillin crossed, Orthodont slopes, Pastes nested):

- the whole call from formula and data frame to fitted model: ``mf.lmer(formula, df)``,
  ``glmm.fit(df, formula, reml=True, satterthwaite=False)`` (lmer computes no df either),
  ``mixedlm.lmer(formula, df, REML=True)`` (PyPI ``mixedlm``, a Rust backend; not statsmodels'
  ``mixedlm``: it takes lme4's formulas, all four models),
  ``smf.mixedlm(...).fit(reml=True)`` where statsmodels can express the model, and
  ``lme4::lmer(formula, data)`` (its defaults, derivative checks included);
- the parametric bootstrap on sleepstudy: ``fit.bootstrap(nsim)`` against lme4's
  ``bootMer(fit, FUN, nsim)`` with FUN returning θ, σ and β (what mixedfit's table holds);
- with ``--cold-start``, the first fit in a fresh process: the compiled kernel compiled, loaded
  from numba's cache, or not used.

mixedfit runs twice: with its compiled evaluation kernel in every fit (``MIXEDFIT_JIT=1``, the
steady state of a process that fits many models; by default a process loads the kernel at
its first covered fit, see ``mixedfit/engine/jit.py``) and on the numpy path
(``MIXEDFIT_JIT=0``), interleaved with the others. Fitted to the same frame every call, mixedfit
reuses the design from its second call on (:mod:`mixedfit.design.reuse`: the predictor columns
are compared with a stored snapshot, the response read afresh, as in a simulation study); the
row "mixedfit (design built)" neither reuses nor stores designs, so it builds the design from
the data every time (a first fit of these predictors, as the other engines do).

``mf.load_dataset`` gives Categorical columns, ``pd.read_csv`` text (``str``; pandas 2: ``object``):
the "(text columns)" rows fit the frame cast so (:mod:`mixedfit.design.textvalues`), in rounds of
their own (Orthodont's X differs: Sex's base level is Female; two X alternating for one formula
would cost mixedfit its kept skeleton's X part on every call).

The Python engines run in this process, interleaved call by call (round r fits every model
with every engine before round r + 1 starts), so that a change of machine load hits all alike;
lme4 runs in an Rscript process per block, between the Python blocks (``--blocks`` alternations).
Each figure is the median over all rounds, of the wall time and of the CPU time of the process
(``time.process_time``; R's ``proc.time`` user + system): on a loaded machine a call is
descheduled for longer than it runs, so the wall time of a call of a few ms grows with the load
(and much less for one under a time slice), while its CPU time barely does; the ratios are
taken on CPU time. statsmodels (0.1–2 s a call) and mixedlm (60–180 ms) are timed in every
``--slow-every``-th round only. The objective is the REML criterion; glmm's is
−2 × its ``loglik`` (its ``deviance`` omits a constant), mixedlm's its ``REMLcrit()``,
statsmodels' −2 × ``llf``.
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
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from models import Model, get_model

import mixedfit as mf

NAMES = ("sleepstudy", "penicillin", "orthodont", "pastes")
ENGINES = ("mixedfit", "mixedfit (design built)", "mixedfit (numpy)", "mixedfit (text columns)")
ENGINES += ("glmm", "glmm (text columns)", "mixedlm", "statsmodels", "lme4")
SLOW = ("mixedlm", "statsmodels")  # timed in every --slow-every-th round only

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; rounds <- as.integer(args[2]); nsim <- as.integer(args[3])
models <- read.csv(file.path(dir, "models.csv"), stringsAsFactors = FALSE)
data <- lapply(models$name, function(nm) {
  d <- read.csv(file.path(dir, paste0(nm, ".csv")), stringsAsFactors = TRUE)
  d
})
names(data) <- models$name
fit1 <- function(i) suppressWarnings(suppressMessages(
  lmer(as.formula(models$formula[i]), data = data[[i]], REML = TRUE)))
for (i in seq_len(nrow(models))) fit1(i)  # warm-up
times <- matrix(NA_real_, rounds, nrow(models)); cpu <- times
cpu_now <- function() sum(proc.time()[c("user.self", "sys.self")])
for (r in seq_len(rounds)) for (i in seq_len(nrow(models))) {
  t0 <- Sys.time(); c0 <- cpu_now(); f <- fit1(i)
  times[r, i] <- as.numeric(Sys.time() - t0, units = "secs"); cpu[r, i] <- cpu_now() - c0
}
out <- list()
for (i in seq_len(nrow(models))) {
  f <- fit1(i)
  out[[models$name[i]]] <- list(seconds = times[, i], cpu = cpu[, i],
                                objective = unname(REMLcrit(f)))
}
if (nsim > 0) {
  f <- fit1(which(models$name == "sleepstudy"))
  FUN <- function(m) c(getME(m, "theta"), sigma(m), fixef(m))
  t0 <- Sys.time(); c0 <- cpu_now()
  b <- suppressWarnings(suppressMessages(bootMer(f, FUN, nsim = nsim, seed = 1)))
  out[["bootstrap"]] <- list(seconds = as.numeric(Sys.time() - t0, units = "secs"),
                             cpu = cpu_now() - c0)
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def _fitters(model: Model, df: pd.DataFrame) -> dict[str, Callable[[], float]]:
    """Engine → a call that fits ``model`` to ``df`` and returns the REML criterion."""
    import glmm
    import mixedlm

    out: dict[str, Callable[[], float]] = {
        "mixedfit": _jit("1", lambda: mf.lmer(model.formula, df).objective),
        "mixedfit (numpy)": _jit("0", lambda: mf.lmer(model.formula, df).objective),
        "glmm": lambda: -2.0 * glmm.fit(df, model.formula, reml=True, satterthwaite=False).loglik,
        # after glmm, as "mixedfit" comes after the previous model's glmm: not right after a
        # fit of the same model, with its code and data in the CPU's caches
        "mixedfit (design built)": _jit("1", lambda: _built(model, df)),
        "mixedlm": lambda: float(mixedlm.lmer(model.formula, df, REML=True).REMLcrit()),
    }
    spec = model.statsmodels
    if spec is not None:
        import statsmodels.formula.api as smf

        groups = df[spec.groups] if spec.groups is not None else np.ones(len(df))

        def statsmodels_fit() -> float:
            md = smf.mixedlm(
                spec.fixed,
                df,
                groups=groups,
                re_formula=spec.re_formula,
                vc_formula=spec.vc_formula or None,
            )
            return -2.0 * float(md.fit(reml=True).llf)

        out["statsmodels"] = statsmodels_fit
    return out


def _text_fitters(model: Model, df: pd.DataFrame) -> dict[str, Callable[[], float]]:
    """The "(text columns)" rows: ``model`` fitted to ``df`` with its columns as text."""
    import glmm

    text = text_columns(df)
    out: dict[str, Callable[[], float]] = {}
    out["glmm (text columns)"] = lambda: (
        -2.0 * glmm.fit(text, model.formula, reml=True, satterthwaite=False).loglik
    )
    out["mixedfit (text columns)"] = _jit("1", lambda: mf.lmer(model.formula, text).objective)
    return out


def text_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every Categorical column cast to text, as ``pd.read_csv`` reads it."""
    cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.assign(**{c: df[c].astype(str) for c in cats})


def _built(model: Model, df: pd.DataFrame) -> float:
    """The whole call with the design built from the data (as a first fit of these predictors,
    or one of new predictors, builds it): "mixedfit" fits the same frame every call, so from
    its second call on it reuses the stored design; here it is neither reused nor stored, nor
    is the engine's skeleton of the terms (:mod:`mixedfit.engine.skeleton`)."""
    from mixedfit.design.reuse import designs_built
    from mixedfit.engine.skeleton import skeletons_built

    with designs_built(), skeletons_built():
        return mf.lmer(model.formula, df).objective


def _jit(setting: str, call: Callable[[], float]) -> Callable[[], float]:
    """``call`` with ``MIXEDFIT_JIT`` set to ``setting`` ("1": the compiled evaluation kernel
    in every fit, the steady state of a process that fits many models; "0": the numpy path)."""

    def run() -> float:
        os.environ["MIXEDFIT_JIT"] = setting
        return call()

    return run


Timings = dict[tuple[str, str], list[tuple[float, float]]]  # (model, engine) → (wall, CPU) s


def run_python(
    fitters: dict[str, dict[str, Callable[[], float]]], rounds: int, slow_every: int
) -> tuple[Timings, dict[tuple[str, str], float]]:
    """Interleaved rounds; (model, engine) → (wall, CPU) seconds per call, and → objective.
    The slow engines (``SLOW``: statsmodels 0.1–2 s a fit, mixedlm 60–180 ms) are timed in every
    ``slow_every``-th round only."""
    times: Timings = defaultdict(list)
    objective: dict[tuple[str, str], float] = {}
    for name, calls in fitters.items():  # warm-up (imports, caches of the first call)
        for engine, call in calls.items():
            objective[name, engine] = call()
    for r in range(rounds):
        for name, calls in fitters.items():
            for engine, call in calls.items():
                if engine in SLOW and r % slow_every:
                    continue
                t0, c0 = time.perf_counter(), time.process_time()
                call()
                times[name, engine].append((time.perf_counter() - t0, time.process_time() - c0))
    return times, objective


def run_lme4(workdir: Path, rounds: int, nsim: int) -> dict[str, Any]:
    script = workdir / "peers.R"
    script.write_text(R_SCRIPT)
    done = subprocess.run(
        ["Rscript", str(script), str(workdir), str(rounds), str(nsim)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def bootstrap_seconds(nsim: int, setting: str = "1") -> tuple[float, float]:
    """Wall and CPU seconds of ``fit.bootstrap(nsim)`` on sleepstudy slopes (``MIXEDFIT_JIT``
    set to ``setting``)."""
    os.environ["MIXEDFIT_JIT"] = setting
    fit = mf.lmer(get_model("sleepstudy").formula, mf.load_dataset("sleepstudy"))
    fit.bootstrap(nsim=20, seed=0)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    fit.bootstrap(nsim=nsim, seed=1)
    return time.perf_counter() - t0, time.process_time() - c0


COLD = """
import os, sys, time
c0 = time.process_time()
import mixedfit as mf
c1 = time.process_time()
df = mf.load_dataset("sleepstudy")
c2 = time.process_time()
mf.lmer("Reaction ~ Days + (Days | Subject)", df)
c3 = time.process_time()
print(c1 - c0, c3 - c2)
"""


def cold_start(repeats: int = 3) -> dict[str, list[float]]:
    """CPU seconds of the first sleepstudy fit in a fresh process (after ``import mixedfit``):
    the kernel compiled (an empty numba cache), loaded from numba's cache, and the numpy path;
    and of ``import mixedfit``. Medians of ``repeats`` processes."""
    out: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MIXEDFIT_JIT="1", NUMBA_CACHE_DIR=str(Path(cache) / "kept"))
        subprocess.run([sys.executable, "-c", COLD], env=env, check=True, capture_output=True)
        for r in range(repeats):
            for label, setting, fresh in (
                ("compile", "1", True),
                ("cached", "1", False),
                ("numpy", "0", False),
            ):
                env = dict(os.environ, MIXEDFIT_JIT=setting)
                env["NUMBA_CACHE_DIR"] = str(Path(cache) / (f"fresh{r}" if fresh else "kept"))
                done = subprocess.run(
                    [sys.executable, "-c", COLD],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                imported, first = map(float, done.stdout.split())
                out[label].append(first)
                out["import mixedfit"].append(imported)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="calls per model and engine")
    parser.add_argument("--blocks", type=int, default=3, help="Python/lme4 alternations")
    parser.add_argument("--nsim", type=int, default=1000, help="bootstrap replicates (0: none)")
    parser.add_argument(
        "--slow-every", type=int, default=10, help="statsmodels' and mixedlm's stride"
    )
    parser.add_argument("--no-lme4", action="store_true")
    parser.add_argument(
        "--cold-start", action="store_true", help="also time first fits in fresh processes"
    )
    parser.add_argument("--output", help="write the Markdown table here")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    models = [get_model(n) for n in NAMES]
    frames = {m.name: mf.load_dataset(m.data) for m in models}
    fitters = {m.name: _fitters(m, frames[m.name]) for m in models}
    text_fitters = {m.name: _text_fitters(m, frames[m.name]) for m in models}
    load = [os.getloadavg()[0]]
    py_times: Timings = defaultdict(list)
    r_times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    objective: dict[tuple[str, str], float] = {}
    boot: dict[str, list[tuple[float, float]]] = defaultdict(list)
    per_block = max(1, args.rounds // args.blocks)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pd.DataFrame(
            {"name": [m.name for m in models], "formula": [m.formula for m in models]}
        ).to_csv(workdir / "models.csv", index=False)
        for m in models:
            frames[m.name].to_csv(workdir / f"{m.name}.csv", index=False)
        for block in range(args.blocks):
            times, objective = run_python(fitters, per_block, args.slow_every)
            text_times, text_objective = run_python(text_fitters, per_block, args.slow_every)
            objective.update(text_objective)
            for key, values in (*times.items(), *text_times.items()):
                py_times[key].extend(values)
            nsim = args.nsim if block == 0 else 0
            if nsim:
                boot["mixedfit"].append(bootstrap_seconds(nsim, "1"))
                boot["mixedfit (numpy)"].append(bootstrap_seconds(nsim, "0"))
            if not args.no_lme4:
                result = run_lme4(workdir, per_block, nsim)
                for m in models:
                    r_times[m.name].extend(
                        zip(result[m.name]["seconds"], result[m.name]["cpu"], strict=True)
                    )
                    objective[m.name, "lme4"] = float(result[m.name]["objective"])
                if nsim:
                    run = result["bootstrap"]
                    boot["lme4"].append((float(run["seconds"]), float(run["cpu"])))
            load.append(os.getloadavg()[0])
    for name, values in r_times.items():
        py_times[name, "lme4"] = values
    cold = cold_start() if args.cold_start else {}
    text = report(models, py_times, objective, boot, args, load, cold)
    print(text)
    if args.output:
        Path(args.output).write_text(text)


def _medians(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


def report(
    models: list[Model],
    times: Timings,
    objective: dict[tuple[str, str], float],
    boot: dict[str, list[tuple[float, float]]],
    args: argparse.Namespace,
    load: list[float],
    cold: dict[str, list[float]] | None = None,
) -> str:
    lines = [
        f"{args.rounds} rounds per model and engine in {args.blocks} blocks (statsmodels and "
        f"mixedlm in "
        f"every {args.slow_every}th) "
        f"(load average {min(load):.2f}–{max(load):.2f} during the run, 2 cores).",
        "",
        "| model | engine | wall ms | CPU ms | CPU × mixedfit | objective | rel. diff. |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in models:
        base = _medians(times[m.name, "mixedfit"])[1]
        ref = objective[m.name, "mixedfit"]
        for engine in ENGINES:
            if (m.name, engine) not in times:
                lines.append(f"| {m.name} | {engine} | n/a | | | | |")
                continue
            wall, cpu = _medians(times[m.name, engine])
            obj = objective.get((m.name, engine), float("nan"))
            lines.append(
                f"| {m.name} | {engine} | {1e3 * wall:.3f} | {1e3 * cpu:.3f} | {cpu / base:.2f} "
                f"| {obj:.10f} | {abs(obj - ref) / abs(ref):.1e} |"
            )
    if boot:
        lines += ["", f"Parametric bootstrap, sleepstudy slopes, nsim = {args.nsim}:", ""]
        lines += [
            "| engine | wall s | CPU s | CPU ms per replicate |",
            "| --- | ---: | ---: | ---: |",
        ]
        for engine, values in boot.items():
            wall, cpu = _medians(values)
            lines.append(f"| {engine} | {wall:.3f} | {cpu:.3f} | {1e3 * cpu / args.nsim:.3f} |")
    if cold:
        lines += [
            "",
            "First sleepstudy fit in a fresh process, CPU s (median of "
            f"{len(cold['numpy'])} processes; `import mixedfit` "
            f"{statistics.median(cold['import mixedfit']):.3f} s not included):",
            "",
            "| kernel | CPU s |",
            "| --- | ---: |",
        ]
        for label, text in (
            ("compile", "compiled (empty numba cache)"),
            ("cached", "loaded from numba's cache"),
            ("numpy", "not used (numpy path)"),
        ):
            lines.append(f"| {text} | {statistics.median(cold[label]):.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
