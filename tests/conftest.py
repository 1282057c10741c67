from __future__ import annotations

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
