"""Time mixedfit's whole call (formula and data to fitted model) on the bundled reference models.

Usage: ``python benchmarks/quick.py [--repeat N]``. mixedfit only; the side-by-side suite with
lme4 and statsmodels is issue #3.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import mixedfit as mf

MODELS = [
    ("sleepstudy", "Reaction ~ 1 + Days + (1 + Days | Subject)", True),
    ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", True),
    ("pastes", "strength ~ 1 + (1 | batch/cask)", True),
    ("orthodont", "distance ~ age * Sex + (1 + age | Subject)", True),
    ("insteval", "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", True),
    ("insteval", "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", False),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'data':12s} {'method':6s} {'median s':>10s} {'evals':>6s}  formula")
    for name, formula, reml in MODELS:
        df = mf.load_dataset(name)
        times = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mf.MixedFitWarning)
            mf.lmer(formula, df, reml=reml)  # warm-up
            for _ in range(args.repeat if name != "insteval" else 1):
                start = time.perf_counter()
                fit = mf.lmer(formula, df, reml=reml)
                times.append(time.perf_counter() - start)
        method = "REML" if reml else "ML"
        print(
            f"{name:12s} {method:6s} {statistics.median(times):10.4f} "
            f"{fit.optimizer.evaluations:6d}  {formula}"
        )


if __name__ == "__main__":
    main()
