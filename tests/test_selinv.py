"""Conditional variances with a sparse second block from a selected inverse (issue 14,
:mod:`mixedfit.engine.selinv`): Takahashi's recurrence gives (L L')⁻¹ on the factor's pattern
as the dense inverse does; the conditional variances equal the dense block's (and the per-level
solves they replace), with slopes in either term, with weights; without numba the solves."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from test_sparse_block import THETAS, _factors, person_firm

from mixedfit.engine import selinv
from mixedfit.engine.solution import conditional_variances

pytest.importorskip("numba", reason="the selected inverse is compiled with numba")
cholmod = pytest.importorskip("sksparse.cholmod", reason="scikit-sparse is in the test extra")


@pytest.fixture(scope="module")
def data():
    return person_firm(seed=8, n=1500, persons=250, firms=60)


def test_takahashi_equals_the_inverse_on_the_pattern():
    n = 120
    B = sp.random(n, n, density=0.03, random_state=1, format="csc")
    M = (B @ B.T + sp.identity(n) * 0.5).tocsc()
    f = cholmod.cholesky(M)
    L = sp.csc_matrix(f.L())
    L.sort_indices()
    values = selinv.takahashi(L)
    perm = f.P()
    Mp = M.toarray()[np.ix_(perm, perm)]
    Z = np.linalg.inv(Mp)  # a test reference on a small matrix
    rows = L.indices
    cols = np.repeat(np.arange(n), np.diff(L.indptr))
    np.testing.assert_allclose(values, Z[rows, cols], rtol=1e-10, atol=1e-12 * np.abs(Z).max())
    inverse = selinv.SparseInverse.of(f)
    a, b = perm[rows], perm[cols]  # the same entries in M's own order, either way round
    np.testing.assert_allclose(inverse[a, b], np.linalg.inv(M.toarray())[a, b], rtol=1e-10)
    np.testing.assert_allclose(inverse[b, a], inverse[a, b], rtol=0)
    pattern = set(zip(rows.tolist(), cols.tolist(), strict=True))
    i, j = next((i, j) for i in range(n) for j in range(i) if (i, j) not in pattern)
    with pytest.raises(ValueError, match="pattern"):  # off the factor's pattern: refused
        inverse[np.array([perm[i]]), np.array([perm[j]])]


@pytest.mark.parametrize("slopes", list(THETAS))
@pytest.mark.parametrize("weights", [False, True])
def test_same_conditional_variances_as_dense(data, slopes, weights):
    dense, sparse_ = _factors(data, slopes, weights)
    for theta in map(np.array, THETAS[slopes]):
        sparse_.update(theta)
        fast = selinv.sparse_conditional_variances(sparse_, theta, 1.3)
        assert fast is not None  # the selected inverse, not the solves
        reference = conditional_variances(dense, theta, 1.3)
        for va, vb in zip(fast, reference, strict=True):
            assert va.shape == vb.shape
            np.testing.assert_allclose(va, vb, rtol=1e-10, atol=1e-10 * np.abs(vb).max())


def test_without_numba_the_solves(data, monkeypatch):
    dense, sparse_ = _factors(data, (True, False), False)
    theta = np.array(THETAS[True, False][0])
    monkeypatch.setattr(selinv, "_KERNEL", [None])
    sparse_.update(theta)
    assert selinv.sparse_conditional_variances(sparse_, theta, 1.0) is None
    solves = conditional_variances(sparse_, theta, 1.0)
    for va, vb in zip(solves, conditional_variances(dense, theta, 1.0), strict=True):
        np.testing.assert_allclose(va, vb, rtol=1e-10, atol=1e-10 * np.abs(vb).max())


def test_dense_factor_not_affected(data):
    dense, _ = _factors(data, (False, False), False)
    assert selinv.sparse_conditional_variances(dense, np.array([1.0, 0.7]), 1.0) is None
