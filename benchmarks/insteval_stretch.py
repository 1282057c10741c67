"""InstEval stretch of issue 15: mixedfit's whole call, evaluations and time per evaluation.

Usage: ``python benchmarks/insteval_stretch.py [--repeat N]`` (lme4's side:
``Rscript benchmarks/insteval_stretch.R OUT_JSON``). Prints, per model, the median whole call, the
evaluations from the moment start, from the fitted θ̂ itself (the floor a better start could
reach with BOBYQA) and the median CPU time of one evaluation of the criterion near θ̂ (CPU
time: on a shared machine wall times measure the other processes).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import mixedfit as mf
from mixedfit.engine import jit
from mixedfit.engine.lmm import fit_lmm, weighted_factor
from mixedfit.engine.threads import single_threaded
from mixedfit.model import engine_terms

MODELS = {
    "dept_service": "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)",
    "dept": "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    df = mf.load_dataset("insteval")
    print(
        f"{'model':13s} {'method':6s} {'whole s':>8s} {'CPU s':>6s} {'evals':>6s} {'from θ̂':>7s} "
        f"{'CPU ms/eval':>11s} {'objective':>18s}"
    )
    for name, formula in MODELS.items():
        for reml in (True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", mf.MixedFitWarning)
                fit = mf.lmer(formula, df, reml=reml)  # warm-up
                times, cpu = [], []
                for _ in range(args.repeat):
                    start, c0 = time.perf_counter(), time.process_time()
                    fit = mf.lmer(formula, df, reml=reml)
                    times.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - c0)
            d = fit._design
            terms, y = engine_terms(d), d.y - d.offset
            again = fit_lmm(terms, d.X, y, reml=reml, theta_start=fit._engine.theta)
            factor = weighted_factor(terms, d.X, y)
            criterion = jit.criterion(factor, reml)
            theta = fit._engine.theta
            per = []
            with single_threaded():  # (BLAS threads spinning on a loaded machine burn CPU)
                for i in range(10):
                    t0 = time.process_time()  # CPU (all threads): the machine is shared
                    criterion(theta * (1 + 1e-6 * (i + 1)))
                    per.append(time.process_time() - t0)
            print(
                f"{name:13s} {'REML' if reml else 'ML':6s} {statistics.median(times):8.3f} "
                f"{statistics.median(cpu):6.2f} "
                f"{fit.optimizer.evaluations:6d} {again.record.evaluations:7d} "
                f"{1e3 * statistics.median(per):11.2f} {-2 * fit.loglik:18.10f}"
            )


if __name__ == "__main__":
    main()
