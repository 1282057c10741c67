"""Fuzz test of the whole fit (issue 10): random formulas over a small data set give a fit or a
library exception (:class:`mixedfit.MixedFitError`), never another exception type, and each is
answered within a time bound.

hypothesis is derandomized with a fixed example budget, so every run tries the same formulas
and the suite stays fast. Formulas are built from pieces users write (columns of every dtype,
transforms, R's ``^``, factors, interactions, random terms, offsets) and from near-misses
(unknown names, stray operators, bad grouping factors), in safe and in default mode.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mixedfit as mf

SECONDS = 60.0  # a hang detector on CPU time (not wall time, which a loaded machine inflates):
# the largest fuzzed model (30 θ) takes about 3 CPU seconds

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

RESPONSES = ["y", "y", "y", "np.log(y + 10)", "I(y^2)", "i", "i8", "f", "s", "yy", "I(y * x)"]
FIXED = [
    "1", "0", "x", "z", "i", "i8", "f", "s", "b", "one", "x:z", "x*f", "i:i8", "I(x^2)",
    "I(i8^3)", "I(i8**3)", "C(i)", "C(f, contr.sum)", "np.log(w)", "np.sqrt(x)", "center(x)",
    "poly(x, 2)", "(x + z + f)^2", "x %in% f", "offset(w)", "offset(w)", "-1", "nope", "f:g",
    "{x + 1}", "`x`", "I(1 / (x - x))", "`my x`", "I(`my x`^2)", "C(`my x`)", "`my x`:f",
]  # fmt: skip
LEFT = ["1", "x", "0 + x", "1 + x", "f", "0 + f", "i8", "s", "1 + x + z", "one", "b", "`my x`"]
GROUPS = ["g", "g", "h", "g/h", "g:h", "h:g", "f", "s", "one", "x", "nope", "i8", "np.log(g)"]
BARS = ["|", "||"]


@st.composite
def formulas(draw: st.DrawFn) -> str:
    fixed = draw(st.lists(st.sampled_from(FIXED), min_size=1, max_size=4))
    terms = draw(
        st.lists(
            st.tuples(st.sampled_from(LEFT), st.sampled_from(BARS), st.sampled_from(GROUPS)),
            min_size=draw(st.sampled_from([0, 1, 1, 1, 1])),  # mostly with random terms
            max_size=3,
        )
    )
    random = [f"({left} {bar} {group})" for left, bar, group in terms]
    return f"{draw(st.sampled_from(RESPONSES))} ~ {' + '.join(fixed + random)}"


def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 60
    g = rng.integers(0, 6, n)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n) + g,
            "yy": rng.normal(size=n).astype("float32"),
            "x": rng.normal(size=n),
            "z": rng.uniform(1, 2, n),
            "w": rng.uniform(0.5, 2, n),
            "i": rng.integers(0, 4, n),
            "i8": rng.integers(0, 100, n).astype("int8"),
            "my x": rng.integers(0, 300, n).astype("int16"),
            "f": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "s": pd.Series(rng.choice(["p", "q"], n), dtype="string"),
            "b": rng.choice([True, False], n),
            "one": "same",
            "g": g,
            "h": rng.choice(["u", "v", "w"], n),
        }
    )


DATA = data()


@FUZZ
@given(formula=formulas(), safe=st.booleans(), reml=st.booleans())
def test_random_formulas_fit_or_raise_a_library_error(formula, safe, reml):
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = mf.lmer(formula, DATA, safe=safe, reml=reml)
        except mf.MixedFitError:
            pass
        else:
            assert np.isfinite(fit.objective)
            assert np.all(np.isfinite(fit.fixef.to_numpy()))
    assert time.process_time() - start < SECONDS, formula


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + (1 | g)",  # the fuzz's vocabulary fits when it should
        "y ~ I(i8^3) + C(i) + (x || g)",
        "y ~ s * x + (1 | g/h)",
    ],
)
def test_fuzz_vocabulary_fits(formula):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        fit = mf.lmer(formula, DATA)
    assert np.isfinite(fit.objective)
