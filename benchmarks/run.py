"""Run the benchmark suite: mixedfit, lme4 and statsmodels MixedLM on the same models and data.

Usage::

    python benchmarks/run.py [--repeat N] [--repeat-heavy M] [--only NAME ...]
                             [--skip-lme4-above SECONDS] [--output docs/benchmarks.md]

Each engine fits each model in a process of its own (``py_worker.py``, ``lme4_worker.R``):
imports and data loading first, then warm-up fits, then the timed fits. This script collects
their JSON results and peak RSS, prints the tables, and writes the Markdown report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe_machine
from models import MODELS, Model, select_models
from report import ENGINES, markdown_report, text_report
from simulate import load_data, write_for_r

HERE = Path(__file__).resolve().parent
Result = dict[str, Any]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    argparse.Namespace
    """
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeat", type=int, default=5, help="timed runs per light model (5)")
    p.add_argument("--repeat-heavy", type=int, default=1, help="timed runs per InstEval model (1)")
    p.add_argument("--warmup", type=int, default=1, help="discarded runs before timing (1)")
    p.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="model(s) to run, repeatable or comma-separated; NAME also selects NAME-*.\n"
        f"Models: {', '.join(m.name for m in MODELS)}",
    )
    p.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated subset of mixedfit,lme4,statsmodels (all)",
    )
    p.add_argument(
        "--skip-lme4-above",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="skip lme4 on a model whose first fit exceeds this (600; 0 = never)",
    )
    p.add_argument("--threads", type=int, help="set OMP/OPENBLAS/MKL_NUM_THREADS for workers")
    p.add_argument("--output", type=Path, help="write the Markdown report here")
    p.add_argument("--json", type=Path, help="write the raw results here")
    p.add_argument(
        "--from-json", type=Path, metavar="FILE", help="re-print/re-write a --json run, run nothing"
    )
    p.add_argument("--rscript", default="Rscript", help="Rscript executable (Rscript)")
    args = p.parse_args(argv)
    args.only = [n for item in args.only or [] for n in item.split(",") if n]
    args.engines = [e for e in args.engines.split(",") if e]
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        p.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    try:
        select_models(args.only)
    except KeyError as err:
        p.error(str(err.args[0]))
    return args


class FirstFitLimit:
    """Says when a worker's first fit has run longer than ``limit`` seconds.

    The worker writes its phase to ``phase_file``: ``first`` when the first fit starts,
    something else when it ends; the file's modification time marks the start.

    Parameters
    ----------
    phase_file : pathlib.Path
    limit : float
        Seconds.
    """

    def __init__(self, phase_file: Path, limit: float) -> None:
        self.phase_file = phase_file
        self.limit = limit

    def __call__(self) -> bool:
        """True if the first fit is still running after ``limit`` seconds."""
        try:
            phase = self.phase_file.read_text().strip()
            started = self.phase_file.stat().st_mtime
        except OSError:
            return False
        return phase == "first" and time.time() - started > self.limit


def run_worker(
    cmd: list[str],
    env: dict[str, str],
    log: Path,
    timeout: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> Result:
    """Run one worker process to its end and read its peak RSS.

    Parameters
    ----------
    cmd : list of str
    env : dict
        Environment of the worker.
    log : pathlib.Path
        Receives the worker's stdout and stderr.
    timeout : float, optional
        Seconds after which the worker is killed (``timed_out``).
    stop : callable, optional
        Polled while the worker runs; if it returns True the worker is killed (``stopped``).

    Returns
    -------
    dict
        ``returncode``, ``peak_rss_kb`` (``ru_maxrss`` of the process and its waited-for
        children), ``wall`` seconds, ``timed_out`` and ``stopped``.
    """
    began = time.monotonic()
    killed = {"timed_out": False, "stopped": False}
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if not any(killed.values()):
                killed["timed_out"] = timeout is not None and time.monotonic() - began > timeout
                killed["stopped"] = stop is not None and stop()
                if any(killed.values()):
                    proc.kill()
            time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "returncode": proc.returncode,
        "peak_rss_kb": int(usage.ru_maxrss),
        "wall": time.monotonic() - began,
        **killed,
    }


def _read_result(out: Path, run: Result, log: Path, limit: float) -> Result:
    if run["stopped"]:  # the peak RSS of a killed worker is a lower bound
        return {"status": "skipped", "limit": limit, "peak_rss_kb": run["peak_rss_kb"]}
    if run["timed_out"]:
        return {"status": "timeout", "peak_rss_kb": run["peak_rss_kb"]}
    if run["returncode"] != 0 or not out.exists():
        code = run["returncode"]
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        return {"status": "error", "error": " | ".join([how, *tail])}
    result: Result = json.loads(out.read_text())
    result["peak_rss_kb"] = run["peak_rss_kb"]
    result["process_wall"] = run["wall"]
    return result


class Suite:
    """Runs the engines on the models, keeping the R copies of the data in a temp dir.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed command line.
    workdir : pathlib.Path
        Temporary directory for data files, worker output and logs.
    """

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.env = dict(os.environ)
        if args.threads:
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                self.env[var] = str(args.threads)
        self._r_data: dict[str, tuple[Path, Path]] = {}

    def repeat(self, model: Model) -> int:
        """Timed runs for ``model``."""
        if model.repeat is not None:
            return model.repeat
        return self.args.repeat_heavy if model.heavy else self.args.repeat

    def warmup(self, model: Model) -> int:
        """Warm-up fits for ``model``."""
        return self.args.warmup if model.warmup is None else model.warmup

    def r_data(self, model: Model) -> tuple[Path, Path]:
        """The CSV and levels files of the model's data, written once per data set."""
        if model.data not in self._r_data:
            folder = self.workdir / model.data.replace(":", "_")
            self._r_data[model.data] = write_for_r(load_data(model.data), folder)
        return self._r_data[model.data]

    def command(self, engine: str, model: Model, out: Path) -> list[str]:
        """The worker command line of one engine on one model."""
        reps, warm = str(self.repeat(model)), str(self.warmup(model))
        if engine == "lme4":
            data_csv, levels_csv = self.r_data(model)
            script = str(HERE / "lme4_worker.R")
            files = [str(data_csv), str(levels_csv)]
            fit = [model.formula, str(model.reml).upper(), reps, warm, str(out)]
            return [self.args.rscript, "--vanilla", script, *files, *fit]
        worker = str(HERE / "py_worker.py")
        options = ["--repeat", reps, "--warmup", warm, "--out", str(out)]
        return [sys.executable, worker, engine, model.name, *options]

    def timeout(self, engine: str, model: Model) -> float | None:
        """Hard limit of an lme4 process (a safety net behind the per-fit limit)."""
        limit = self.args.skip_lme4_above
        if engine != "lme4" or limit <= 0:
            return None
        fits = self.warmup(model) + 2 * self.repeat(model) + 1
        return limit * fits + 300.0

    def run(self, engine: str, model: Model) -> Result:
        """Run one engine on one model in a fresh process.

        Parameters
        ----------
        engine : str
        model : Model

        Returns
        -------
        dict
            The worker's JSON result plus ``peak_rss_kb``, or a status-only result.
        """
        if engine not in self.args.engines:
            return {"status": "not run"}
        if engine == "statsmodels" and model.statsmodels is None:
            return {"status": "n/a"}
        out = self.workdir / f"{model.name}.{engine}.json"
        log = self.workdir / f"{model.name}.{engine}.log"
        cmd = self.command(engine, model, out)
        limit = self.args.skip_lme4_above
        stop = (
            FirstFitLimit(Path(f"{out}.phase"), limit) if engine == "lme4" and limit > 0 else None
        )
        run = run_worker(cmd, self.env, log, self.timeout(engine, model), stop)
        return _read_result(out, run, log, limit)


def _progress(model: Model, engine: str, result: Result) -> str:
    status = result.get("status")
    if status != "ok":
        return f"  {model.name:15s} {engine:12s} {status}"
    whole = sorted(result["whole"])[len(result["whole"]) // 2]
    rss = result["peak_rss_kb"] / 1024
    return (
        f"  {model.name:15s} {engine:12s} whole {whole:9.4f} s  objective "
        f"{result['objective']:.4f}  peak {rss:6.0f} MB  ({result['process_wall']:.0f} s)"
    )


def run_suite(args: argparse.Namespace, models: list[Model]) -> dict[str, dict[str, Result]]:
    """Run every selected engine on every selected model.

    Parameters
    ----------
    args : argparse.Namespace
    models : list of Model

    Returns
    -------
    dict
        Model name → engine → result.
    """
    results: dict[str, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="mixedfit-bench-") as tmp:
        suite = Suite(args, Path(tmp))
        for model in models:
            results[model.name] = {}
            for engine in ENGINES:
                result = suite.run(engine, model)
                results[model.name][engine] = result
                print(_progress(model, engine, result), flush=True)
    return results


def _settings(args: argparse.Namespace, started: str) -> dict[str, str]:
    limit = args.skip_lme4_above
    return {
        "command": f"`python benchmarks/run.py {shlex.join(sys.argv[1:])}`".replace(" `", "`"),
        "date": started,
        "timed runs": f"{args.repeat} per model, {args.repeat_heavy} for heavy models "
        f"(InstEval); {args.warmup} warm-up run(s) discarded; the 10^6-row model: 1 timed run, "
        "no warm-up",
        "lme4 time limit": f"skipped if one fit exceeds {limit:g} s" if limit > 0 else "none",
        "threads": f"{args.threads} (OMP/OPENBLAS/MKL_NUM_THREADS)"
        if args.threads
        else "library defaults (see Machine)",
        "load average at end (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _report(run: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the tables of a run and write the requested files."""
    models = [m for m in MODELS if m.name in run["results"]]
    print()
    print(text_report(models, run["results"]))
    if args.json:
        args.json.write_text(json.dumps(run, indent=1))
    if args.output:
        md = markdown_report(models, run["results"], run["machine"], run["settings"])
        args.output.write_text(md)
        print(f"\nwrote {args.output}")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    args = parse_args(argv)
    if args.from_json:
        run = json.loads(args.from_json.read_text())
        run["machine"] = [tuple(row) for row in run["machine"]]
        _report(run, args)
        return
    models = select_models(args.only)
    started = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    machine = describe_machine(args.rscript if "lme4" in args.engines else None)
    print(f"{len(models)} model(s), engines {', '.join(args.engines)}", flush=True)
    results = run_suite(args, models)
    settings = _settings(args, started)
    _report({"settings": settings, "machine": machine, "results": results}, args)


if __name__ == "__main__":
    main()
