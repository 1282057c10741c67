from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from references import load_reference, reference_data

import mixedfit as mf

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
