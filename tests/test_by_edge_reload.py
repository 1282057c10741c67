"""A saved fit at a ``by=`` group's AR(1) edge with a stratum named vanished loads (issue 12, lane
lows29; lane lows28's "h8 × 1e3's saved fit refused on load").

tests/reference/cov_by_ar1/h8_scale_edge_fit.json: h8 with y × 1e3 as session 17's main fitted
and saved it (make_h8_scale_edge_fit.py): φ_b = 1 (an edge) and stratum c's residual variance
named vanished there (ratio 1e-4) by the edge check's rule on the dense criterion
(``by_edge._vanished_named``). The reload checked that verdict on the whitened rows' criterion,
which fails at φ = 1 (Λ_R singular), so the verdict read as "rises towards 0" and the file was
refused as altered. Now the reload judges it as the fit did (``edge_fit.verdict_criterion``), and
its BoundaryWarning names c as the fit's did (the edge's message alone before). Today's main fits
h8 × 1e3 to R's optimum inside (ℓ −1049.0878347, a vanished, loads on main too); this file is a
genuine edge fit of the earlier code, the state the reload must accept.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import mixedfit as mf

FILE = Path(__file__).parent / "reference" / "cov_by_ar1" / "h8_scale_edge_fit.json"


def test_edge_fit_with_a_vanished_group_loads_with_the_fits_warning() -> None:
    saved = json.loads(FILE.read_text())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.load_fit(FILE)  # main: MixedFitError "… rises towards 0 … (the file was altered)"
    assert fit.loglik == pytest.approx(-saved["estimates"]["objective"] / 2, abs=1e-9)
    said = [str(w.message) for w in seen if issubclass(w.category, mf.BoundaryWarning)]
    assert len(said) == 1
    edge, _, gone = said[0].partition("; residual variance at its bound: ")
    assert edge.startswith("φ of group 'b' (by=) = 1: ")
    assert gone.startswith("the residual variance of stratum 'c' of the variance function")
    params = fit.residual.params
    assert params["b:Phi"] == 1.0 and params["c"] == pytest.approx(1.0033e-4, rel=1e-3)


def test_an_altered_verdict_at_the_edge_is_still_refused(tmp_path: Path) -> None:
    """The verdict naming b (ratio 1.03, not small) instead of c is refused as before."""
    saved = json.loads(FILE.read_text())
    saved["residual"]["vanished"]["values"] = [False, False, False, True, False]
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(saved))
    with pytest.raises(mf.MixedFitError, match=r"residual\.vanished names a stratum whose ratio"):
        mf.load_fit(path)
