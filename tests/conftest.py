from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))

from references import load_reference, reference_data

import mixedfit as mf

# One BLAS thread for the whole session (tests needing more ask for them: threadpool_limits).
# Fits already run on one thread (mixedfit/engine/threads.py); the tests' own dense references
# (n×n solves, slogdet) ran on OpenBLAS's default threads, whose spinning is very slow on busy
# cores: with `pytest -n 2` on two cores each worker's two threads share the cores with the
# other worker's (a 510-row dense criterion in test_engine took 2.6 s instead of 0.47 s).
_ONE_BLAS_THREAD = threadpool_limits(1, user_api="blas")

# The scripts that made the reference data (tests/reference/*/make_*.py, tests/data/make_data.py)
# hold no tests, but pyproject's --doctest-modules imported each at collection, on every worker:
# the three without a __main__ guard ran, rewrote car1_large.csv.gz and car1_continuous.csv.gz
# (gzip's time stamp: a changed file in git) and recomputed un_profile.json (~4 s CPU).
collect_ignore_glob = ["reference/*", "data/*"]

_FITS: dict[str, tuple[dict[str, Any], mf.LinearMixedModel]] = {}


def fit_reference(path: Path) -> tuple[dict[str, Any], mf.LinearMixedModel]:
    """Fit a reference case once per session."""
    key = str(path)
    if key not in _FITS:
        ref = load_reference(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mf.SingularFitWarning)
            warnings.simplefilter("ignore", mf.RankDeficiencyWarning)
            fit = mf.lmer(
                ref["formula_py"],
                reference_data(ref),
                reml=ref["REML"],
                weights=ref.get("weights"),
            )
        _FITS[key] = (ref, fit)
    return _FITS[key]


@pytest.fixture
def sleepstudy():
    return mf.load_dataset("sleepstudy")


# ----------------------------------------------------------------- file order under xdist
# `pytest -n 2 --dist loadfile` (README, .ci/run) hands the workers whole files, in xdist's
# order: most tests first. The slow files with few tests (a few long profiles or fits) came
# last, and the run ended with one of them alone on one worker. Under xdist they go first, the
# slowest first; the rest keep xdist's order (most tests first), so small files fill the end.
# The files with a test of 10 s or more in session 14's full run, slowest first (one-worker CPU
# in session 15: test_limit_profile_full 79 s, test_residual_flat_restart 26 s).
SLOW_FIRST = (
    "test_varident_relabel_edge.py",
    "test_limit_profile_full.py",
    "test_limit_profile_rv10.py",
    "test_limit_session9.py",
    "test_limit_profile.py",
    "test_residual_edge_settled.py",
    "test_varident_partial_limit.py",
    "test_residual_edge_vanish.py",
    "test_residual_flat_restart.py",
    "test_residual_evals.py",
    "test_far_slopes.py",
    "test_residual_edge_report.py",
    "test_residual_limit_exact.py",
    "test_residual_attained_covariate.py",
    "test_residual_limit_dense.py",
    "test_pickle.py",
    "test_crashes.py",
    "test_docs_build.py",
    "test_residual_edge_message.py",
    "test_residual_limit_sigma0.py",
    "test_varident_stress_ll.py",
    "test_residual_restart.py",
    "test_varident_reference_tail.py",
    "test_varident_reference_tail_follow.py",
    "test_varident_relabel.py",
    "test_varident_vanished_final.py",
    "test_by_ar1.py",
    "test_by_ar1_edge.py",
    "test_cov_ri_arh.py",
    "test_scale_dask.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist: schedule files in the collection's order (set by the hook below)."""
    if getattr(config.option, "dist", "no") != "no":
        config.option.loadscopereorder = False  # (xdist ≥ 3.6 sorts files by their test count)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker: SLOW_FIRST's files first, then by number of tests (most first).
    Each file's tests stay together and in order; a run without xdist keeps pytest's order."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    counts: dict[Path, int] = {}
    for item in items:
        counts[item.path] = counts.get(item.path, 0) + 1
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def key(item: pytest.Item) -> tuple[int, int]:
        return rank.get(item.path.name, len(rank)), -counts[item.path]

    items.sort(key=key)  # stable: files in collection order within a rank and a count
