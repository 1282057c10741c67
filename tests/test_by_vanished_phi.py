"""A ``by=`` group whose residual variance vanished: its φ is not an estimate (issue 12, lows28).

h8 (tests/reference/cov_by_ar1, REML, ``AR1("occ", "Subject", by="grp")``): at R's maximum group
a's residual sd is ~1e-6 (the fit names it vanished, a BoundaryWarning), so σ² δ_a² Λ_R(φ_a) is
~0 whatever φ_a: φ_a is not identified. Main printed it as an estimate (``a:Phi 0.665``, where
the optimizer left it), and its Satterthwaite df were refused (the variance parameters' Hessian
singular along φ_a). Now φ_a is NaN in ``fit.residual.params``, the summary and ``tidy``, and held
out of the df's Hessian. Reference: R's dense REML model with a's residual sd at exactly 0 (φ_a
absent), maximized, and its Satterthwaite df (h8_vanished_sat.R, sourcing ../limit_df/sat_dense.R).
The fit is replayed from its saved file h8_fit.json (make_h8_fit.py; a whole fit is ~20 s CPU).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference" / "cov_by_ar1"
R = json.loads((REF / "h8_vanished_sat.json").read_text())


def _load(path: Path) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.load_fit(path)
    return fit, list(seen)


@pytest.fixture(scope="module")
def h8() -> tuple[Any, list[warnings.WarningMessage]]:
    return _load(REF / "h8_fit.json")


def test_the_vanished_groups_phi_is_nan(h8: Any) -> None:
    fit, seen = h8
    assert fit.loglik == pytest.approx(R["loglik"], abs=1e-6)  # R's with sd_a = 0 exactly
    said = [str(w.message) for w in seen if issubclass(w.category, mf.BoundaryWarning)]
    assert len(said) == 1 and "stratum 'a'" in said[0] and "vanishes" in said[0]
    params = fit.residual.params
    assert math.isnan(params["a:Phi"])  # main: 0.665 (not identified)
    np.testing.assert_allclose([params["b:Phi"], params["c:Phi"]], R["phi"], atol=2e-6)
    assert params["b"] > 1e3 and params["c"] > 1e3  # relative to a's vanished sd
    text = str(fit.summary())
    assert "a:Phi  NaN (not identified" in text and "b:Phi  0.651574" in text
    tidy = fit.tidy().set_index("term")["estimate"]
    assert math.isnan(tidy["cor__a:Phi"]) and tidy["cor__b:Phi"] == params["b:Phi"]


def test_the_df_hold_it(h8: Any) -> None:
    """Satterthwaite df with φ_a held, as R's dense model without it (main: refused, "the
    Hessian … is not positive definite")."""
    fit, _ = h8
    table = fit.coef_table()
    np.testing.assert_allclose(table["df"].to_numpy(), R["sat_df"], rtol=5e-5)
    np.testing.assert_allclose(fit.se.to_numpy(), np.sqrt(np.diag(R["vcov"])), rtol=1e-5)


def test_a_reload_keeps_it(h8: Any, tmp_path: Path) -> None:
    """The file stores φ as estimated (the criterion's check needs it); the reload names a again."""
    fit, seen = h8
    fit.save(tmp_path / "again.json")
    again, said = _load(tmp_path / "again.json")
    assert [str(w.message) for w in said] == [str(w.message) for w in seen]
    assert math.isnan(again.residual.params["a:Phi"])
    stored = json.loads((tmp_path / "again.json").read_text())["residual"]["params"]["a:Phi"]
    assert stored == pytest.approx(0.6653546315, abs=1e-9)  # φ_a where the optimizer left it
