"""The QR evaluation at tiny VarIdent ratios from pieces of fixed size (issue 12, review rv10
LOW-1; engine/residual/orthogonal_compact.py).

The row-wise QR (engine/residual/orthogonal.py) factored all n whitened rows at every evaluation
(×8–35 slower than the cross products at n = 12,000 and a ratio of 0.005). Units (levels of the
random-effects term, residual subjects, rows) repeating a pattern are replaced by at most m·c
pseudo-units (the triangle of their stacked rows): the pieces an evaluation works on are the
same for 100 and 1,000 subjects, and the criterion equals the row-wise one (an independent
factorization, itself checked against a 50-digit dense evaluation when it was written) at ratios
1e-1 … 1e-6 and the cross products' blocked factor (independent code) at ordinary ratios.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.covariance.base import ResidualStructure
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.residual.orthogonal import OrthogonalCriterion
from mixedfit.engine.residual.orthogonal_compact import CompactOrthogonal
from mixedfit.model.fit import engine_terms

MODELS = {
    "RI + VarIdent": ("y ~ stratum + x + (1|subject)", "ident"),
    "RI + AR1 & VarIdent": ("y ~ stratum + x + (1|subject)", "ar1"),
    "slope + AR1 & VarIdent": ("y ~ stratum + x + (1 + t|subject)", "ar1"),
    "GLS VarIdent": ("y ~ stratum + x", "ident"),
    "GLS AR1 & VarIdent": ("y ~ stratum + x", "ar1"),
}


def _data(nsub: int, ratio: float = 0.005, seed: int = 3) -> pd.DataFrame:
    """nsub subjects × 8 times, strata A–D cycling (B's sd ``ratio``), a random intercept."""
    rng = np.random.default_rng(seed)
    m = 8
    t = np.tile(np.arange(1, m + 1), nsub)
    sub = np.repeat(np.arange(nsub), m)
    strata = np.array(list("ABCD"))[(t - 1) % 4]
    sd = pd.Series({"A": 1.0, "B": ratio, "C": 1.5, "D": 0.7})[strata].to_numpy()
    x = rng.normal(size=nsub * m)
    y = 1 + 0.5 * x + rng.normal(size=nsub)[sub] + sd * rng.normal(size=nsub * m)
    return pd.DataFrame(
        {"subject": [f"s{i}" for i in sub], "t": t, "stratum": strata, "x": x, "y": y}
    )


@functools.cache
def _criterion_of(
    nsub: int, ratio: float, name: str
) -> tuple[ResidualCriterion, np.ndarray, np.ndarray]:
    """The criterion of ``_data(nsub, ratio)`` and a point: the fit of ``_data(nsub, 0.5)`` (a
    quick fit; X, Z and the strata do not depend on the ratio, only y does)."""
    return _criterion(_data(nsub, 0.5), name, _data(nsub, ratio)["y"].to_numpy())


def _criterion(
    df: pd.DataFrame, name: str, y: np.ndarray | None = None
) -> tuple[ResidualCriterion, np.ndarray, np.ndarray]:
    """The model's criterion (of ``df``, or of ``y`` in its place) and ``df``'s fit's point
    (θ, φ) (B's log ratio then set by the tests)."""
    formula, kind = MODELS[name]
    structure: ResidualStructure = mf.VarIdent("stratum")
    if kind == "ar1":
        structure = mf.AR1("t", "subject") & structure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = (mf.lmer if "|" in formula else mf.gls)(formula, df, residual=structure)
    design, engine = fit._design, fit._engine
    assert np.array_equal(design.y, df["y"].to_numpy())  # rows in the data's order
    response = design.y if y is None else y
    crit = ResidualCriterion(engine_terms(design), design.X, response - design.offset, engine.model)
    return crit, np.asarray(engine.theta, dtype=float), np.asarray(engine.phi, dtype=float)


def _with_ratio(crit: ResidualCriterion, phi: np.ndarray, ratio: float) -> np.ndarray:
    phi = phi.copy()
    phi[list(crit.model.names).index("B")] = np.log(ratio)
    return phi


@pytest.mark.parametrize("name", list(MODELS))
def test_the_evaluation_works_from_pieces_of_fixed_size(name: str) -> None:
    """100 and 1,000 subjects: the same compact rows, columns and pseudo-units at a ratio of
    1e-3."""
    shapes = []
    for nsub in (100, 1000):
        crit, _, phi = _criterion_of(nsub, 0.5, name)
        phi = _with_ratio(crit, phi, 1e-3)
        qr = crit.orthogonal_at(phi)
        assert isinstance(qr, CompactOrthogonal)
        shapes.append(qr.pieces_shape)
        assert qr.compact_rows <= 4 * 8  # one pattern (GLS VarIdent: four strata of one row)
    assert shapes[0] == shapes[1]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("ratio", [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6])
def test_compact_equals_the_row_wise_factorization(name: str, ratio: float) -> None:
    crit, theta, phi = _criterion_of(300, 0.005, name)
    phi = _with_ratio(crit, phi, ratio)
    compact = CompactOrthogonal.build_compact(crit.terms, crit._M, crit.p, crit.model)
    rows = OrthogonalCriterion(crit.terms, crit._M, crit.p, crit.model)
    assert compact is not None
    for reml in (True, False):
        value = rows.objective(theta, phi, reml)
        assert compact.objective(theta, phi, reml) == pytest.approx(value, rel=1e-13, abs=1e-9)
    got, expected = compact.pieces(theta, phi), rows.pieces(theta, phi)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("name", list(MODELS))
def test_compact_equals_the_cross_products_at_an_ordinary_ratio(name: str) -> None:
    crit, theta, phi = _criterion_of(300, 0.5, name)
    phi = _with_ratio(crit, phi, 0.4)
    compact = CompactOrthogonal.build_compact(crit.terms, crit._M, crit.p, crit.model)
    assert compact is not None
    for reml in (True, False):
        value = crit.factor_at(phi).objective(theta, reml)
        assert compact.objective(theta, phi, reml) == pytest.approx(value, rel=1e-11, abs=1e-9)


def test_few_units_per_pattern_keep_the_row_wise_evaluation() -> None:
    """Units that do not repeat (8 subjects, each its own pattern of x) gain nothing."""
    df = _data(8)
    crit, _, phi = _criterion(df, "RI + AR1 & VarIdent")
    assert CompactOrthogonal.build_compact(crit.terms, crit._M, crit.p, crit.model) is None
    assert type(crit.orthogonal_at(_with_ratio(crit, phi, 1e-3))) is OrthogonalCriterion


def test_a_fit_at_a_ratio_of_0_005_is_the_row_wise_criterion_s_minimum() -> None:
    """rv10 LOW-1's model (random intercept + AR(1) & VarIdent, B's ratio 0.005), fitted through
    the compact evaluation: its ℓ is the row-wise criterion's at its point, and no step of 1e-3
    along a coordinate lowers the row-wise criterion by more than 1e-8."""
    df = _data(200)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(
            MODELS["RI + AR1 & VarIdent"][0],
            df,
            residual=mf.AR1("t", "subject") & mf.VarIdent("stratum"),
        )
    assert not seen
    crit, theta, phi = _criterion(df, "RI + AR1 & VarIdent")
    assert isinstance(crit.orthogonal_at(phi), CompactOrthogonal)
    rows = OrthogonalCriterion(crit.terms, crit._M, crit.p, crit.model)
    value = rows.objective(theta, phi, True)
    assert fit.loglik == pytest.approx(-0.5 * value, rel=1e-12)
    x = np.concatenate([theta, phi])
    nt = theta.size
    for i in range(x.size):
        for step in (-1e-3, 1e-3):
            y = x.copy()
            y[i] += step
            assert rows.objective(y[:nt], y[nt:], True) > value - 1e-8
