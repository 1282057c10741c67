"""The design of the AR1(by=grp) model of tests/reference/cov_by_ar1 without fitting it: the
arguments :func:`mixedfit.lmer` would hand to ``fit_residual`` (shared by the replay tests,
test_by_ar1_edge_sides.py and test_by_ar1_near_edge.py, which rebuild a stored fit state on it)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit import residual_api

__all__ = ["FORMULA", "design_parts"]

FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"


class _BuiltError(Exception):
    """Carries fit_residual's arguments out of :func:`mixedfit.lmer` (the design, no fit)."""

    def __init__(self, *args: Any) -> None:
        super().__init__("built")
        self.parts = args


def _stop(terms: Any, X: Any, y: Any, model: Any, **_: Any) -> Any:
    raise _BuiltError(terms, X, y, model)


def design_parts(d: pd.DataFrame, reml: bool) -> tuple[Any, Any, Any, Any]:
    """(terms, X, y, model) of the model on ``d`` (``occf`` made categorical o1..o5 here)."""
    d = d.copy()
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(residual_api, "fit_residual", _stop)
        with pytest.raises(_BuiltError) as built:
            mf.lmer(FORMULA, d, reml=reml, residual=mf.AR1("occ", "Subject", by="grp"))
    terms, X, y, model = built.value.parts
    return terms, X, y, model
