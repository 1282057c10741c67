"""Plain formula parts (built without formulaic) against formulaic's own model matrices."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix

import mixedfit as mf
from mixedfit.design.plainterms import plain_part, plain_response


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "i": rng.integers(0, 5, n),
            "f": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["mid", "lo", "hi"]),
            "g": rng.choice(["u", "v"], n),
            "k": pd.Categorical(rng.choice([3, 1, 2], n)),
            "b": rng.choice([True, False], n),
            "s": pd.Series(rng.choice(["p", "q"], n), dtype="string"),
            "o": pd.Series(rng.choice(["m", "n", "l"], n), dtype=object),
            "one": "same",
        }
    )


PLAIN = [
    "1",
    "x",
    "1 + x",
    "x + 1",
    "0 + x",
    "x + z",
    "z + x + i",
    "f",
    "1 + f",
    "x * f",
    "f * x",
    "f * g",
    "g * f * x",
    "x * z * f",
    "f + g + f:g",
    "f:g + f + g",
    "x + f + x:f",
    "x:f + f + x",
    "x + f:x",
    "x + z + x:z",
    "k * x",
    "f * k",
    "o * x",
    "o + g",
]
FORMULAIC_ONLY = [
    "0 + f",  # full coding
    "f + x:f",  # x:f needs f in full
    "f:g",  # neither main effect
    "x:f",
    "b",  # booleans
    "one",  # a single level
    "np.log(i + 1)",
    "x - 1",
    "x**2",
    "I(x * z)",
    "x:x",
    "x + x",
    "f*g:x",
    "C(f)",
    "nothere",
    "0 + 1 + x",
]


@pytest.mark.parametrize("expr", PLAIN)
def test_plain_parts_match_formulaic(expr):
    df = frame()
    part = plain_part(expr, df)
    assert part is not None
    expected = model_matrix(expr, df)
    assert part.names == tuple(expected.columns)
    np.testing.assert_array_equal(part.matrix(df), expected.to_numpy(dtype=float))


@pytest.mark.parametrize("expr", ["s", "x * s", "s + o"])
def test_string_dtype_is_plain_and_coded_as_object_text(expr):
    """pandas' ``string`` dtype (pd.NA) is coded as formulaic codes object text."""
    df = frame()
    part = plain_part(expr, df)
    assert part is not None
    expected = model_matrix(expr, df.astype({"s": object}))
    assert part.names == tuple(expected.columns)
    np.testing.assert_array_equal(part.matrix(df), expected.to_numpy(dtype=float))


@pytest.mark.parametrize("expr", FORMULAIC_ONLY)
def test_other_parts_are_left_to_formulaic(expr):
    assert plain_part(expr, frame()) is None


def test_plain_response():
    df = frame()
    np.testing.assert_array_equal(plain_response("y", df), df["y"].to_numpy())
    for expr in ("f", "np.log(y)", "b", "missing"):
        assert plain_response(expr, df) is None


@pytest.mark.parametrize(
    ("formula", "singular"),
    [  # frame()'s grouping carries no variance: the fits that estimate one end singular
        ("y ~ x * f + (1 | g)", True),
        ("y ~ f * g + (1 + x | f)", False),
        ("y ~ x + (1 + f | g)", True),
        ("y ~ k + x + (1 | f:g)", True),
    ],
)
def test_deferred_specs_agree_with_the_fit(formula, singular):
    """The formulaic specs built later (new data) give the fit's own columns."""
    df = frame()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit = mf.lmer(formula, df, names="formulaic")  # formulaic's specs name columns its way
    assert [w.category for w in seen] == ([mf.SingularFitWarning] if singular else [])
    spec = fit._design.spec
    assert tuple(str(c) for c in spec.fixed_spec.column_names) == tuple(fit.fixef.index)
    for term in spec.terms:
        assert tuple(str(c) for c in term.spec.column_names) == term.columns
    np.testing.assert_allclose(fit.predict(df), fit.fitted, rtol=1e-10)
