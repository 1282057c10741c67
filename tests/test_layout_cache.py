"""The θ layout's bounds and masks are computed once per layout (refits ask at every fit): a
caller that writes into what it got does not change the next answer, another layout (other
terms) never sees the first one's, and the shared index arrays cannot be written."""

from __future__ import annotations

import numpy as np
import pytest

from mixedfit.engine.reterm import ReTerm, ThetaLayout


def _term(k: int, correlated: bool = True) -> ReTerm:
    refs = np.array([0, 0, 1, 1, 2, 2])
    return ReTerm(refs, np.ones((6, k)), 3, correlated)


def test_bounds_are_copies_of_a_cached_value() -> None:
    layout = ThetaLayout((_term(2), _term(1)))
    lower = layout.lower()
    assert lower.tolist() == [0.0, -np.inf, 0.0, 0.0]
    lower[:] = 7.0  # the caller's copy
    assert layout.lower().tolist() == [0.0, -np.inf, 0.0, 0.0]
    mask = layout.diagonal_mask()
    assert mask.tolist() == [True, False, True, True]
    mask[:] = False
    assert layout.diagonal_mask().tolist() == [True, False, True, True]


def test_each_layout_has_its_own_bounds() -> None:
    first = ThetaLayout((_term(3),))
    assert first.lower().tolist() == [0.0, -np.inf, -np.inf, 0.0, -np.inf, 0.0]
    other = ThetaLayout((_term(3, correlated=False),))
    assert other.lower().tolist() == [0.0, 0.0, 0.0]
    assert other.diagonal_mask().all() and first.diagonal_mask().sum() == 3


def test_theta_index_is_shared_and_read_only() -> None:
    rows, cols = _term(3).theta_index
    assert rows.tolist() == [0, 1, 2, 1, 2, 2] and cols.tolist() == [0, 0, 0, 1, 1, 2]
    assert _term(3).theta_index[0] is rows  # one pair per (k, correlated)
    with pytest.raises(ValueError, match="read-only"):
        rows[0] = 5
    T = np.tril(np.arange(1.0, 10.0).reshape(3, 3))
    assert _term(3).params_of(T).tolist() == [1.0, 4.0, 7.0, 5.0, 8.0, 9.0]


def test_upper_bounds_size_and_structured_are_cached_per_layout() -> None:
    """upper() (asked at every fit and refit) is a copy of a value computed once; size and
    structured are each layout's own."""
    layout = ThetaLayout((_term(2), _term(1)))
    upper = layout.upper()
    assert upper.tolist() == [np.inf] * 4
    upper[:] = 1.0
    assert layout.upper().tolist() == [np.inf] * 4
    assert layout.size == 4 and not layout.structured
    assert ThetaLayout((_term(3, correlated=False),)).size == 3
    assert ThetaLayout(()).size == 0
