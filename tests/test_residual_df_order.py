"""Satterthwaite df of a residual-structure fit do not depend on which VarIdent stratum is nlme's
reference (issue 12, session 15 lane dfref; reviewer rv21 findings F1–F3).

``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")``, ML (s16: REML), two strata a, b. Order ``ab``: the data as written (a the
reference); ``ba``: the subjects renamed so that b's sort first (b the reference). The same model:
R's dense Satterthwaite df (tests/reference/cov_vi_order/sat_order.R, sourcing the shared
tests/reference/limit_df/sat_dense.R) at R's dense optimum, φ held at an edge and a vanished
stratum's variance held at exactly 0 where the fit says so.

- F1, seed 0 (interior, ratio b/a 1.71): df 49.87 / 53.39 (ab) against 50.00 / 53.50 (ba) and R's
  50.0024 / 53.5102: the Hessian's 3 Richardson halvings (numDeriv's 4 now).
- F2, ML seed 1 (interior, stratum b vanishing): with b the reference (σ ~3e-6, θ ~1e5) the df
  were NaN by the σ → 0 limit's rule; finite with a the reference. Checked here on its REML
  analogue, seed 16 (stratum a, the reference, vanishing: σ 1.3e-5; 49.6486 / 65.2262 with b the
  reference), where Kenward–Roger, refused before, applies too: asserted in
  tests/test_varident_reference_crawl.py on its fit of the same data (reference/cov_rar1_reftail/
  s16.csv; session 17 lane trimB: fitted once in the suite); seed 1 itself (28.9672 / 42.8568 in
  both orders) is in tests/reference/cov_vi_order/sat.json, not fitted here (a fit each costs ~8 s).
- F3, seed 3 (the edge φ = −1, stratum a vanishing; tests/reference/cov_rar1_swapref): NaN with a
  the reference, finite with b; the order ab (and seed 10's edge) in
  tests/test_residual_edge_swapref.py, on its fit.
- Seed 2 (the edge φ = 1, both strata kept): the VarIdent ratio was held with φ, df 30.64 / 64.97
  against R's 29.546 / 63.811 (both orders alike).

The df are computed on the fits saved by ``cov_vi_order/make_fits.py`` (``<seed>_<order>_fit.json``,
mixedfit a4010e8; each reloaded there with the same coef_table to the last digit), loaded here:
the findings are the df's, and the four fits cost ~25 s of CPU (session 17 lane trimB). ℓ is
still asserted against R's optimum, at the saved estimates (the reload's criterion); the fitting
of order ab with a vanishing at the edge (m3) and of m10 is tests/test_residual_edge_swapref.py's.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf

REF = Path(__file__).parent / "reference"
HERE = REF / "cov_vi_order"
SAT = json.loads((HERE / "sat.json").read_text())
FORMULA = "y ~ x + ar1(0 + occf | Subject, hom=False)"
RTOL = 2e-4  # R's numDeriv and ours, each in its own parameterization (seen: ≤ 6.2e-5)
_FITS: dict[tuple[str, str], tuple[Any, pd.DataFrame, list[str]]] = {}


@pytest.fixture(scope="module")
def fitted() -> Any:
    """(fit, its Satterthwaite coef_table, the table's warnings) of (seed, order), each loaded
    once in this module from its saved fit (cov_vi_order/<seed>_<order>_fit.json)."""

    def get(name: str, order: str) -> tuple[Any, pd.DataFrame, list[str]]:
        if (name, order) not in _FITS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fits' BoundaryWarnings: their own tests
                fit = mf.load_fit(HERE / f"{name}_{order}_fit.json")
            assert fit.formula == FORMULA and not fit.reml
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                table = fit.coef_table(ddf="satterthwaite")
            _FITS[name, order] = (fit, table, [str(w.message) for w in seen])
        return _FITS[name, order]

    return get


@pytest.mark.parametrize(
    ("name", "order"),
    [("m0", "ab"), ("m0", "ba"), ("m3", "ba"), ("m2", "ab")],
)
def test_satterthwaite_df_match_r_in_either_order(fitted: Any, name: str, order: str) -> None:
    """The df equal R's dense Satterthwaite df of the same model (a vanished stratum at 0, an
    edge's φ held) whichever stratum is the reference, without a warning."""
    ref = SAT[name]
    fit, table, seen = fitted(name, order)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    np.testing.assert_allclose(table["df"].to_numpy(), ref["df"], rtol=RTOL)
    np.testing.assert_allclose(table["std_error"].to_numpy(), ref["se"], rtol=1e-5)
    assert not seen
