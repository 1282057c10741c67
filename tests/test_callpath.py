"""The call path outside the evaluations (issue 15): cheaper code that gives the same bits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.design import build_design, canonical_rows
from mixedfit.engine.centring import _centring_matrix
from mixedfit.engine.reterm import ReTerm
from mixedfit.formula import parse_formula


def _per_key_order(design):
    """canonical_rows' permutation, computed independently: one constancy test per key."""
    refs = [t.refs for t in design.terms]
    keys = list(refs) + list(design.X.T)
    for t in design.terms:
        keys.extend(t.Z.T)
    if design.weights is not None:
        keys.append(design.weights)
    keys += [design.offset, design.y]
    keys = [k for k in keys if len(k) and not (k == k[0]).all()]
    return np.lexsort(keys[::-1])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weighted", [False, True])
def test_canonical_rows_order_is_the_per_key_one(seed, weighted):
    """The canonical order is the lexicographic one of the varying keys (level codes, columns,
    weights, offset, response), with ties, constant columns (intercept, offset) and weights;
    shuffled data give the same arrays."""
    rng = np.random.default_rng(seed)
    n = 60
    df = pd.DataFrame(
        {
            "y": np.round(rng.normal(size=n), 1),  # ties in y
            "x": rng.integers(0, 3, n).astype(float),
            "g": rng.integers(0, 5, n).astype(str),
            "h": rng.integers(0, 4, n).astype(str),
            "w": rng.uniform(0.5, 2.0, n) if weighted else 1.0,
        }
    )
    formula = parse_formula("y ~ x + (x | g) + (1 | h)")
    design = build_design(formula, df, weights="w" if weighted else None)
    canonical = canonical_rows(design)
    assert np.array_equal(canonical.rows, design.rows[_per_key_order(design)])
    shuffled_df = df.sample(frac=1.0, random_state=seed)
    shuffled = canonical_rows(build_design(formula, shuffled_df, weights="w" if weighted else None))
    assert shuffled.y.tobytes() == canonical.y.tobytes()
    assert shuffled.X.tobytes() == canonical.X.tobytes()


@pytest.mark.parametrize(
    "columns",
    [
        [np.ones(40), np.arange(40.0) % 10],  # sleepstudy-like: nothing to gain
        [np.ones(40), 10.0 + np.arange(40.0) % 7],  # far from 0: centred
        [np.ones(40), (np.arange(40.0) % 10) * 1e-4],  # tiny units: scaled
        [np.arange(40.0) % 10 * 1e3],  # no intercept, large units: scaled by the RMS
        [np.ones(40), np.full(40, 3.0)],  # constant columns: left alone
        [np.ones(40), np.full(40, 3.0), np.arange(40.0) % 5 * 1e3],  # one constant, one scaled
    ],
)
def test_centring_matrix_is_computed_from_the_same_means(columns):
    """The column means without ndarray.mean's wrapper: M and the ratio are those of the
    reference computation (Z.mean(axis=0), the numpy band tests)."""
    Z = np.column_stack(columns)
    term = ReTerm(np.arange(40) % 4, Z, 4, True)
    got = _centring_matrix(term)
    constant = (Z[0] == Z).all(axis=0)
    if constant.all():
        assert got is None
        return
    ones = np.flatnonzero(constant & (Z[0] == 1.0))
    if len(ones):
        c = Z.mean(axis=0)
        resid = Z - c
        spread = np.sqrt((resid * resid).mean(axis=0))
        c += resid.mean(axis=0)
        c[ones] = 0.0
    else:
        c, spread = np.zeros(Z.shape[1]), np.sqrt((Z * Z).mean(axis=0))
    far = ~constant & (spread > 0) & ((spread > 64) | (spread < 1 / 64)) & np.isfinite(spread)
    collinear = bool(len(ones) and Z.shape[1] >= 2 and np.any(np.abs(c) > 2 * spread))
    if not far.any() and not collinear:
        assert got is None
        return
    assert got is not None
    M = np.eye(Z.shape[1])
    if collinear:
        M[ones[0], :] -= c
    if far.any():
        M = M / np.where(far, np.exp2(np.round(np.log2(np.where(far, spread, 1.0)))), 1.0)
    assert got[0].tobytes() == M.tobytes()


def test_fits_read_the_same_bits_after_the_call_path_changes():
    """Reference values of the models the peer benchmark fits, to the last printed digit."""
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))
    assert fit.objective == pytest.approx(1743.6282719585, rel=1e-12)
    fit = mf.lmer("diameter ~ 1 + (1|plate) + (1|sample)", mf.load_dataset("penicillin"))
    assert fit.objective == pytest.approx(330.8605889911, rel=1e-12)


# moment starts (θ of the columns the optimizer uses) computed before the call-path changes
_STARTS = {
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"): [
        "0x1.eef79eb7681cep-1",
        "0x1.f10f44b27c888p-7",
        "0x1.d8e72123b6fbdp-3",
    ],
    ("sleepstudy", "Reaction ~ Days + (1 | Subject)"): ["0x1.32a85d2c66f80p+0"],
    ("sleepstudy", "Reaction ~ Days + (Days || Subject)"): [
        "0x1.748df50949f23p+0",
        "0x1.220cd83fa62bep-2",
    ],
    ("orthodont", "distance ~ age * Sex + (age | Subject)"): [  # eigenvalue floor 1e-3 (was
        "0x1.5e1eaf35349c1p+0",  # 1e-2: 0x1.5e1eb74aad3bdp+0, 0x1.c944f12ac01f5p-6,
        "0x1.ca0911ddcd694p-6",  # 0x1.1836bc2be57c0p-3 — its slope eigenvalue was floored)
        "0x1.ffdaa81dd31bbp-4",
    ],
    ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"): [
        "0x1.8a284f35ac0f7p+0",
        "0x1.c196d270e1715p+1",
    ],
    ("pastes", "strength ~ 1 + (1|batch/cask)"): ["0x1.97cddddfe6d8dp+1", "0x1.11705bef73fbcp+1"],
    ("machines", "score ~ Machine + (1|Worker/Machine)"): [
        "0x1.53ab944b950e2p+2",
        "0x1.3917f61c0c602p+2",
    ],
    ("machines", "score ~ Machine + (0 + Machine | Worker)"): [
        "0x1.0f81928ce62b7p+2",
        "0x1.ccd703c70371bp+2",
        "0x1.6bbb6fd6cac57p+1",
        "0x1.5654b9fc8acf6p+2",
        "0x1.09a7818d3498cp+1",
        "0x1.74350d698e625p+1",
    ],
}


@pytest.mark.parametrize("key", list(_STARTS), ids=lambda k: f"{k[0]}: {k[1]}")
def test_moment_starts_are_unchanged(key):
    """The moment start (scalar terms without LAPACK, one stacked rank call, fitted values kept
    between backfitting passes) gives the values it gave before, to rounding (bit for bit on
    the machine that recorded them)."""
    from mixedfit.engine.centring import Centring
    from mixedfit.engine.lmm import weighted_factor
    from mixedfit.engine.start import moment_start
    from mixedfit.model import engine_terms

    name, formula = key
    design = canonical_rows(build_design(parse_formula(formula), mf.load_dataset(name)))
    terms = engine_terms(design)
    centring = Centring.of(terms)
    inner = weighted_factor(
        terms if centring is None else centring.terms(terms), design.X, design.y - design.offset
    )
    got = moment_start(inner.layout, inner.X, inner.y)
    want = np.array([float.fromhex(h) for h in _STARTS[key]])
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
