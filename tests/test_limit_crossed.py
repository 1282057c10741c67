"""A term crossed with a structured term's groups at the σ → 0 limit (issue 12, HIGH-2).

``y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)`` on the ar1hi data with a random ``item``
column (6 levels, no effect) crossed with ``subject``. At the limit V = B + Z_c Λ_c Λ_c' Z_c'
(B block diagonal by subject), evaluated exactly by whitening with B's per-subject factors
(``engine/limit_crossed.py``). Values from ``tests/reference/limit_crossed/limit_crossed.R``:
nlme's ``lme`` (RI + corAR1) for the nested limit (item variance 0), and a dense n × n REML / ML
at σ = 0 maximized over the item variance too (``seed7_fit``: its ℓ, β, SE, item BLUPs and
conditional sds, Satterthwaite df by numDeriv).
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine import limit_gls
from mixedfit.engine.limit_crossed import CrossedLimit
from mixedfit.engine.limit_gls import model_at
from mixedfit.model.fit import MixedModelFit

HERE = Path(__file__).parent / "reference" / "limit_crossed"
REF = json.loads((HERE / "limit_crossed.json").read_text())
FORMULA = "y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject)"


def _data(seed: int) -> pd.DataFrame:
    d = pd.read_csv(HERE / f"ar1hi_item{seed}.csv", dtype={"subject": str})
    d["tf"] = pd.Categorical(d.tf, categories=[f"t{i}" for i in range(1, 9)])
    return d


def _fit(
    df: pd.DataFrame, reml: bool = True
) -> tuple[MixedModelFit, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = mf.lmer(FORMULA, df, reml=reml)
    return fit, caught


def _shared(
    seed: int, shift: float = 0.0, reml: bool = True
) -> tuple[MixedModelFit, list[warnings.WarningMessage]]:
    """The fit of seed's data with y + shift, made once for the tests that only read it (each
    fit takes ~2 s; lane trim); a test that changes the engine fits its own."""
    return _shared_fit(seed, float(shift), bool(reml))  # one cache key per fit


@functools.cache
def _shared_fit(
    seed: int, shift: float, reml: bool
) -> tuple[MixedModelFit, list[warnings.WarningMessage]]:
    return _fit(_data(seed).assign(y=lambda d: d.y + shift), reml)


@pytest.mark.parametrize("shift", [0.0, 1e4])
def test_tiny_crossed_theta_reports_the_exact_nested_limit(shift: float) -> None:
    # seed 3: the item variance → 0 at the optimum; the crossed θ ended at ~1e-17 (not 0) and the
    # ray's value, 1.4e-5 ABOVE the supremum (the nested limit), was reported
    fit, _ = _shared(3, shift)
    nested = REF["seed3"]["nested_nlme"]
    assert fit.loglik == pytest.approx(nested, abs=1e-6)
    assert fit.loglik <= REF["seed3"]["dense"] + 1e-7  # never above the supremum
    assert fit.covariances["item"].to_numpy().ravel()[0] == 0.0


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("shift", [0.0, 1e4])
def test_positive_crossed_term_at_the_limit_is_exact(shift: float, reml: bool) -> None:
    # seed 7: the item variance stays positive at the optimum (dense: sd 0.0118). Evaluated on
    # the ray only, ℓ was 9e-3 short of the dense optimum, moved 7e-3 by y + 1e4, and warned
    fit, caught = _shared(7, shift, reml)
    with warnings.catch_warnings(record=True) as more:
        warnings.simplefilter("always")
        table = fit.coef_table(ddf="satterthwaite" if reml else "none")
    ref = REF["seed7_fit"]["reml" if reml else "ml"]
    assert fit.sigma == 0.0
    assert not [w for w in [*caught, *more] if w.category is mf.ConvergenceWarning]
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-9)
    if reml:
        assert ref["loglik"] == pytest.approx(REF["seed7"]["dense"], rel=1e-12)
        # the ray on the crossed limit (lane crossray, test_limit_crossed_evaluations.py)
        assert fit.optimizer.evaluations < 5_000  # 5,383 (y + 1e4: 6,359) before
    beta = table["estimate"].to_numpy() - np.array([shift, 0.0])
    se = table["std_error"].to_numpy()
    np.testing.assert_allclose(beta, ref["beta"], rtol=0, atol=1e-6 * se.max())
    np.testing.assert_allclose(se, ref["se"], rtol=1e-5)
    item = fit.covariances["item"].to_numpy().ravel()[0]
    assert math.sqrt(item) == pytest.approx(ref["item_sd"], rel=1e-4)
    np.testing.assert_allclose(fit.ranef["item"].to_numpy().ravel(), ref["item_blup"], atol=1e-7)
    condsd = fit.ranef_condsd["item"].to_numpy().ravel()
    np.testing.assert_allclose(condsd, ref["item_condsd"], rtol=1e-5)
    if reml:  # Satterthwaite's df of the exact limit (R: numDeriv on the dense deviance)
        np.testing.assert_allclose(table["df"].to_numpy(), ref["df"], rtol=1e-4)


@pytest.mark.parametrize("reml", [True, False])
def test_crossed_limit_is_invariant_to_a_shift_of_y(reml: bool) -> None:
    a, b = (_shared(7, s, reml)[0] for s in (0.0, 1e4))
    assert a.loglik == pytest.approx(b.loglik, rel=1e-9)
    assert a.fixef["t"] == pytest.approx(b.fixef["t"], rel=1e-7)


def _dense(fit: MixedModelFit, theta: np.ndarray, nugget: float) -> tuple[np.ndarray, np.ndarray]:
    """V / scale = Σ Z_t (I ⊗ T T') Z_t' (+ nugget I) at θ, built from the data (ar1's θ = (sd,
    ρ), the intercepts' θ their sds), and the data's rows in the fit's order (X, y)."""
    d = _data(7)
    S = (d.subject.to_numpy()[:, None] == d.subject.to_numpy()[None, :]).astype(float)
    item = (d["item"].to_numpy()[:, None] == d["item"].to_numpy()[None, :]).astype(float)
    lag = np.abs(d.t.to_numpy()[:, None] - d.t.to_numpy()[None, :])
    sd, rho, ri, it = theta
    V = sd**2 * rho**lag * S + ri**2 * S + it**2 * item + nugget * np.eye(len(d))
    X = np.column_stack([np.ones(len(d)), d.t.to_numpy(dtype=float)])
    return V, np.column_stack([X, d.y.to_numpy()])


def _dense_criterion(V: np.ndarray, Xy: np.ndarray, reml: bool) -> float:
    n, p = Xy.shape[0], Xy.shape[1] - 1
    L = np.linalg.cholesky(V)
    W = np.linalg.solve(L, Xy)
    q, R = np.linalg.qr(W[:, :p])
    r = W[:, p] - q @ (q.T @ W[:, p])
    r2, logdet = float(r @ r), 2 * float(np.sum(np.log(np.diag(L))))
    if not reml:
        return logdet + n * (1 + math.log(2 * math.pi * r2 / n))
    ldx = 2 * float(np.sum(np.log(np.abs(np.diag(R)))))
    return logdet + ldx + (n - p) * (1 + math.log(2 * math.pi * r2 / (n - p)))


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("nugget", [0.0, 1.0])
def test_crossed_limit_criterion_is_the_dense_one(reml: bool, nugget: float) -> None:
    # the whitened evaluation against a dense n × n Cholesky of V, away from the optimum
    fit, _ = _shared(7)
    factor = fit._engine.factor
    order = [t.structure.kind if t.structure else t.nlev for t in factor.layout.terms]
    assert order == ["ar1", 30, 6]  # θ = (ar1 sd, ρ, subject sd, item sd)
    for theta in ([1.0, 0.9, 0.4, 0.3], [2.0, 0.5, 0.0, 1.5], [1.0, 0.99, 0.1, 0.02]):
        th = np.array(theta)
        model = model_at(factor, th)
        assert isinstance(model, CrossedLimit)
        V, Xy = _dense(fit, th, nugget)
        expected = _dense_criterion(V, Xy, reml)
        assert model.criterion(th, reml, nugget) == pytest.approx(expected, rel=1e-12)


def test_crossed_limit_conditional_variances_are_the_dense_ones() -> None:
    # σ² (G − G Z' V⁻¹ Z G) of every term, from a dense V at the fit's θ
    fit, _ = _shared(7)
    engine = fit._engine
    th, sigma = np.asarray(engine.theta, dtype=float), 0.7
    model = model_at(engine.factor, th)
    assert isinstance(model, CrossedLimit)
    got = model.conditional_variances(th, sigma)
    assert got is not None
    V, _ = _dense(fit, th, 0.0)
    d = _data(7)
    sd, rho, ri, it = th
    lag = np.abs(np.arange(8)[:, None] - np.arange(8)[None, :])
    for k, (term, level) in enumerate([("ar1", "s03"), ("subject", "s03"), ("item", "i2")]):
        rows = (d["item" if term == "item" else "subject"] == level).to_numpy()
        if term == "ar1":  # the subject's 8 times (one row each, in tf's order)
            Z = np.zeros((len(d), 8))
            Z[np.flatnonzero(rows), d.t.to_numpy()[rows] - 1] = 1.0
            G = sd**2 * rho**lag
        else:
            Z, G = rows[:, None].astype(float), np.array([[(ri if term == "subject" else it) ** 2]])
        expected = sigma**2 * (G - G @ Z.T @ np.linalg.solve(V, Z) @ G)
        lev = sorted(set(d.subject)) if term != "item" else sorted(set(d["item"]))
        # the dense G − G Z'V⁻¹Z G cancels ~5 digits at the limit's θ (sds 1e4): its rounding
        atol = 1e-12 * sigma**2 * float(np.max(G))
        np.testing.assert_allclose(got[k][lev.index(level)], expected, rtol=1e-9, atol=atol)


def test_vanished_crossed_term_does_not_warn() -> None:
    _, caught = _shared(3)
    assert not [w for w in caught if w.category is mf.ConvergenceWarning]


def test_crossed_limit_fit_round_trip(tmp_path: Path) -> None:
    """A reloaded crossed limit fit recomputes the crossed limit's estimates, as the fit."""
    fit, _ = _shared(7)
    fit.save(tmp_path / "crossed.mfit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.BoundaryWarning)
        warnings.simplefilter("ignore", mf.SingularFitWarning)
        back = mf.load_fit(tmp_path / "crossed.mfit")
    assert back.sigma == 0.0
    assert back.loglik == fit.loglik
    pd.testing.assert_frame_equal(back.ranef_condsd["item"], fit.ranef_condsd["item"])
    assert str(back.summary()) == str(fit.summary())


def test_crossed_limit_without_its_exact_criterion_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond MAX_CROSSED_CELLS (rows × crossed effects: its whitened Z_c is dense) the crossed
    limit is not built: the ray's value stands, with a ConvergenceWarning saying so."""
    monkeypatch.setattr(limit_gls, "MAX_CROSSED_CELLS", 0)
    fit, caught = _fit(_data(7))
    messages = [str(w.message) for w in caught if w.category is mf.ConvergenceWarning]
    assert any("crossed with the structured term's groups" in m for m in messages)
    assert fit.loglik <= REF["seed7"]["dense"] + 1e-7  # the supremum
