"""The nested-bound refit is edge-checked too (issue 12, lane lows28; review rv27 LOW-7).

:func:`~mixedfit.engine.residual.nested.nested_bound` (a fit below its nested model refitted from
the nested model's optimum) runs after the AR(1) edge check, so a refit of it that ended at an
edge was never judged there. Where the refit wins, the edge check now runs again on it. The
wiring is tested on rv21's g3 (``(1 | Subject)`` + ``AR1 & VarIdent``, ML, ~0.05 s a fit) with
the bound's refit forced to win (no data at hand has a refit that wins and ends at an edge).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import fit as fit_module

REF = Path(__file__).parent / "reference"


def test_a_winning_nested_refit_is_edge_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []
    check = fit_module.edge_check

    def spy(fit: Any, *args: Any) -> Any:
        seen.append(fit.record.start)
        return check(fit, *args)

    def won(fit: Any, *args: Any) -> Any:  # as nested_bound's refit winning
        return replace(fit, record=replace(fit.record, start="nested model's optimum"))

    monkeypatch.setattr(fit_module, "edge_check", spy)
    monkeypatch.setattr(fit_module, "nested_bound", won)
    d = pd.read_csv(REF / "cov_vi_vanfinal" / "g3.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(
            "y ~ x + (1 | Subject)",
            d,
            reml=False,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    assert seen.count("nested model's optimum") >= 1  # main: the refit never judged
    assert fit.optimizer.start == "nested model's optimum"
