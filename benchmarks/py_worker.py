"""Time one Python engine (mixedfit or statsmodels) on one model, in a process of its own.

Usage: ``python benchmarks/py_worker.py ENGINE MODEL --repeat N --warmup K --out FILE``.
The run orchestrator (``run.py``) starts one such process per engine and model, so that the
peak RSS it reads from the finished process belongs to that engine alone. Libraries are imported
and the data loaded before the timed region; warm-up fits are run and discarded; the timed fits
follow. The result is written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from models import Model, get_model
from simulate import load_data


@dataclass
class Fit:
    """One timed fit.

    Attributes
    ----------
    whole : float
        Seconds of the whole user call (formula and data to fitted model).
    opt : float
        Seconds of the optimization alone.
    objective : float
        REML criterion or −2 log-likelihood, as lme4's ``-2*logLik(fit)``.
    evals : int or None
        Objective evaluations, if the engine reports them.
    converged : bool
    cpu : float
        CPU seconds (all threads) of the whole call; far below ``whole`` × threads hints at
        contention with other processes. Filled in by :func:`timed`.
    """

    whole: float
    opt: float
    objective: float
    evals: int | None
    converged: bool
    cpu: float = float("nan")


def timed(run: Callable[[Model, pd.DataFrame], Fit], model: Model, df: pd.DataFrame) -> Fit:
    """Run one fit and record its CPU time.

    Parameters
    ----------
    run : callable
        One of :data:`ENGINES`.
    model : Model
    df : pandas.DataFrame

    Returns
    -------
    Fit
    """
    gc.collect()
    cpu = time.process_time()
    fit = run(model, df)
    fit.cpu = time.process_time() - cpu
    return fit


def fit_mixedfit(model: Model, df: pd.DataFrame) -> Fit:
    """Fit with ``mixedfit.lmer``; optimization time is ``fit.optimizer.seconds``.

    Parameters
    ----------
    model : Model
    df : pandas.DataFrame

    Returns
    -------
    Fit
    """
    import mixedfit as mf

    start = time.perf_counter()
    fit = mf.lmer(model.formula, df, reml=model.reml)
    whole = time.perf_counter() - start
    opt = fit.optimizer
    return Fit(whole, opt.seconds, fit.objective, opt.evaluations, fit.converged)


def fit_statsmodels(model: Model, df: pd.DataFrame) -> Fit:
    """Fit with ``statsmodels`` MixedLM; optimization time is that of ``.fit()``.

    Parameters
    ----------
    model : Model
        Must have a ``statsmodels`` translation.
    df : pandas.DataFrame

    Returns
    -------
    Fit
    """
    import statsmodels.formula.api as smf

    spec = model.statsmodels
    assert spec is not None
    start = time.perf_counter()
    groups = spec.groups if spec.groups is not None else np.ones(len(df))
    md = smf.mixedlm(
        spec.fixed,
        df,
        groups=groups,
        re_formula=spec.re_formula,
        vc_formula=spec.vc_formula or None,
    )
    built = time.perf_counter()
    res = md.fit(reml=model.reml)
    end = time.perf_counter()
    return Fit(end - start, end - built, -2.0 * float(res.llf), None, bool(res.converged))


ENGINES: dict[str, Callable[[Model, pd.DataFrame], Fit]] = {
    "mixedfit": fit_mixedfit,
    "statsmodels": fit_statsmodels,
}


def _import_engine(engine: str) -> str:
    """Import the engine (outside the timed region) and return its version."""
    if engine == "mixedfit":
        import mixedfit

        return str(getattr(mixedfit, "__version__", "unknown"))
    import statsmodels

    return str(statsmodels.__version__)


def _rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(engine: str, model: Model, repeat: int, warmup: int) -> dict[str, Any]:
    """Load the data, run the warm-up and timed fits, and summarise them.

    Parameters
    ----------
    engine : {"mixedfit", "statsmodels"}
    model : Model
    repeat, warmup : int
        Timed and discarded fits.

    Returns
    -------
    dict
        JSON-ready result: status, per-run times, objective, evaluations, notes.
    """
    version = _import_engine(engine)
    df = load_data(model.data)
    rss_loaded = _rss_kb()
    run = ENGINES[engine]
    fits: list[Fit] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(warmup + repeat):
            fit = timed(run, model, df)
            if i >= warmup:
                fits.append(fit)
    notes = sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught})
    last = fits[-1]
    return {
        "status": "ok",
        "engine": engine,
        "version": version,
        "model": model.name,
        "nobs": len(df),
        "whole": [f.whole for f in fits],
        "cpu": [f.cpu for f in fits],
        "opt": [f.opt for f in fits],
        "objective": last.objective,
        "evals": last.evals,
        "converged": all(f.converged for f in fits),
        "notes": notes[:5],
        "rss_loaded_kb": rss_loaded,
        "fits": [asdict(f) for f in fits],
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("engine", choices=sorted(ENGINES))
    parser.add_argument("model")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    model = get_model(args.model)
    if args.engine == "statsmodels" and model.statsmodels is None:
        result: dict[str, Any] = {"status": "n/a", "engine": args.engine, "model": model.name}
    else:
        result = measure(args.engine, model, max(args.repeat, 1), max(args.warmup, 0))
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
