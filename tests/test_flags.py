"""The flags of ``lmer`` (api.py ``_check_flags``, issue 15: checked without building a union
type per call): Python and numpy booleans pass, anything else is a library error."""

from __future__ import annotations

import numpy as np
import pytest

import mixedfit as mf
from mixedfit.api import _check_flags


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_booleans_pass(value):
    _check_flags(reml=value, safe=True, verbose=False)


@pytest.mark.parametrize("value", [1, 0, 1.0, None, "no", np.int64(1), [True]])
def test_anything_else_is_an_error(value):
    with pytest.raises(mf.MixedFitError, match="safe must be True or False"):
        _check_flags(reml=True, safe=value)
