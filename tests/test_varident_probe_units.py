"""The VarIdent boundary probe's verdict does not depend on the units of y (issue 12, review rv9
LOW-2): the criterion shifts by (n − p) log a² when y is multiplied by a, so a tolerance relative
to |criterion| accepted the van2 + AR1 boundary (criterion drop 8.06e-4 from the floor to a tenth
of it) with y × 1e-4 or y × 1e4 but not with y itself. Data: tests/reference/cov_probe/van2.csv
(review rv9's van2: stratum C's residual variance vanishes)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual import probe

HERE = Path(__file__).parent / "reference" / "cov_probe"
ACCEPTED = probe._accepted


def _verdicts(scale: float, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The probe's verdicts (accepted or not) on van2 + AR1 with y times ``scale``."""
    df = pd.read_csv(HERE / "van2.csv")
    df["pos"] = df.stratum.map({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5})
    df["y"] = df["y"] * scale
    seen: list[bool] = []

    def spy(*args: Any, **kwargs: Any) -> bool:
        seen.append(bool(ACCEPTED(*args, **kwargs)))
        return seen[-1]

    monkeypatch.setattr(probe, "_accepted", spy)
    residual = mf.AR1("pos", "subject") & mf.VarIdent("stratum")
    with warnings.catch_warnings():  # the warnings are not what this tests
        warnings.simplefilter("ignore")
        mf.lmer("y ~ stratum + x + (1|subject)", df, residual=residual)
    return seen


def test_probe_verdict_does_not_depend_on_units(monkeypatch: pytest.MonkeyPatch) -> None:
    base = _verdicts(1.0, monkeypatch)
    assert base  # the probe ran
    assert any(_verdicts(1e-4, monkeypatch)) == any(base)
    assert any(_verdicts(1e4, monkeypatch)) == any(base)
