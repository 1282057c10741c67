"""The compiled kernel's column ranges of the random-effect rows (issue 15, lane reuse).

A random-effect row of A_t0 (a later term's level against the first term's columns) is zero
outside the first term's levels it meets (a nested term: the few inner levels of its outer
level), and so are those rows of W0 and L_t0 at every θ: the kernel computes and reads them only
on those columns (:func:`mixedfit.engine.jit_kernel._factor`). Skipped products are exact zeros,
so the criterion has the very bits of the kernel run on every column."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine import jit
from mixedfit.engine.jit import EvaluationKernel

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba is not installed")


def _nested(seed: int = 5, shift: int = 5) -> pd.DataFrame:
    """b nested in a, its labels not in a's order (level blocks of A_t0 not contiguous)."""
    rng = np.random.default_rng(seed)
    n = 240
    a, b = rng.integers(0, 8, n), rng.integers(0, 5, n)
    x = rng.standard_normal(n)
    y = rng.standard_normal(n) + (a % 3) * 0.7 + b * 0.3 + x * (1 + 0.2 * (a % 2))
    inner = [f"B{v}" for v in (a * shift + b) % 13]
    return pd.DataFrame({"y": y, "x": x, "a": [f"A{v}" for v in a], "b": inner})


CASES = {
    "pastes": ("pastes", "strength ~ 1 + (1 | batch/cask)"),
    "nested_slopes": ("nested", "y ~ x + (1 + x | a/b)"),  # k0 = 2, later blocks k = 2
    "inner_slopes": ("nested", "y ~ x + (1 | a) + (1 + x | a:b)"),
    "crossed_partly": ("nested", "y ~ x + (1 | a) + (1 | b)"),  # wide ranges
}


def _factor(data: str, formula: str):
    df = mf.load_dataset(data) if data != "nested" else _nested()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.lmer(formula, df)
    return fit._engine.factor, fit._engine.theta


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def kernel(request):
    factor, theta = _factor(*CASES[request.param])
    return request.param, EvaluationKernel(factor), theta


def _thetas(theta: np.ndarray, count: int = 25) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [np.abs(theta * np.exp(rng.normal(size=len(theta)))) + 1e-3 for _ in range(count)]


def test_each_rows_range_holds_its_columns(kernel):
    name, k, _ = kernel
    nre, k0, q0 = k.nre, k.a00.shape[1], k.at0.shape[1]
    lo, hi = k.ranges[:nre].astype(int), k.ranges[nre:].astype(int)
    assert nre > 0 and np.all(lo % k0 == 0) and np.all(hi % k0 == 0) and np.all(hi <= q0)
    header, npos = jit._module.HEADER, int(k.ibuf[jit._module._NPOS])
    start = k.ibuf[header + npos :][:nre]  # each row's level block (.jit_kernel's ibuf)
    for r in range(nre):
        block = k.at0[start[r] : start[r] + (np.flatnonzero(start == start[r]).size)]
        columns = np.flatnonzero(np.any(block != 0, axis=0))
        assert columns.min() >= lo[r] and columns.max() < hi[r]
        assert lo[r] == columns.min() // k0 * k0 and hi[r] == (columns.max() // k0 + 1) * k0
    if name == "pastes":  # each batch's three casks (of 30): the rows computed on 3 columns
        assert np.all(hi - lo == 3)


def test_ranged_kernel_is_the_full_kernel_bit_for_bit(kernel):
    _, k, theta = kernel
    nre, q0 = k.nre, k.at0.shape[1]
    for reml in (True, False):
        ranged = [k.function(reml)(t) for t in _thetas(theta)]
        kept = k.ranges.copy()
        try:
            k.ranges[:nre], k.ranges[nre:] = 0, q0  # every column, as before the ranges
            full = [k.function(reml)(t) for t in _thetas(theta)]
        finally:
            k.ranges[:] = kept
        assert [v.hex() for v in ranged] == [v.hex() for v in full]
        clone = k.factor.clone()
        numpy_path = [clone.objective(t, reml) for t in _thetas(theta)]
        np.testing.assert_allclose(ranged, numpy_path, rtol=1e-12)


def test_a_pack_of_another_pattern_recomputes_the_ranges():
    """A kernel packed with another factor of the same shapes whose rows meet other columns
    (b's labels shifted against a's) reads that factor's ranges, not the first one's."""
    first, theta = _factor("nested", CASES["crossed_partly"][1])
    df = _nested(shift=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = mf.lmer(CASES["crossed_partly"][1], df)._engine.factor
    fresh = EvaluationKernel(other)
    kernel = EvaluationKernel(first)
    assert fresh.at0.shape == kernel.at0.shape
    assert not np.array_equal(fresh.ranges, kernel.ranges)  # (else the test shows nothing)
    kernel.factor = other
    kernel.pack()
    np.testing.assert_array_equal(kernel.ranges, fresh.ranges)
    for t in _thetas(theta, 10):
        assert kernel.function(True)(t).hex() == fresh.function(True)(t).hex()
