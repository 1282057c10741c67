"""Whitened rows that overflow at a vanishing VarIdent ratio (issue 12, session 13 lane c26b).

rv15's ar1vi seed 8 (``y ~ x + ar1(0 + occf | Subject, hom=False)``, AR1 & VarIdent(grp)): a
multistart restart ran stratum b's ratio to 2.7e-158 (the criterion flat there, evaluated by the
dense blocks). The factor of the rows whitened there overflowed in its cross products: 33 numpy
RuntimeWarnings reached the user (31 "overflow encountered", 2 "invalid value" from the
infinite factor's update). The factor is now refused with a LinAlgError (the restart is dropped,
as any restart whose factor fails), and the criterion there stays the dense blocks' finite value.
Expected values: the exact dense likelihood (numpy, per subject) of tests/test_varident_stress_ll.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from test_residual_attained import _spanning_data
from test_varident_stress_ll import _dense_loglik
from test_varident_stress_ll import _fit as stress_fit

from mixedfit.engine.residual.criterion import WHITENED_MAX, ResidualCriterion
from mixedfit.model import engine_terms


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_factor_at_a_ratio_of_1e_158_is_refused_without_runtime_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit's own warnings are not the point
        fit = stress_fit(_spanning_data())
    terms = engine_terms(fit._design)
    X, y, model = fit._design.X, fit._design.y, fit._engine.model
    crit = ResidualCriterion(terms, X, y, model)
    phi = np.array(fit._engine.phi, dtype=float)
    phi[-1] = -362.82911428024295  # seed 8's restart: ratio b 2.7e-158
    assert model.report(phi)["b"] < 1e-157
    with pytest.raises(np.linalg.LinAlgError, match="overflow"):
        crit.factor_at(phi)
    x = np.concatenate([fit._engine.theta, phi])
    value = crit.objective(x, False)  # the dense blocks: exact at the vanished ratio
    at = SimpleNamespace(
        theta=np.asarray(fit._engine.theta),
        residual=SimpleNamespace(params={"Phi": model.report(phi)["Phi"], "b": 0.0}),
    )
    assert value == pytest.approx(-2 * _dense_loglik(_spanning_data(), at), rel=1e-10)  # type: ignore[arg-type]


def test_factor_at_an_ordinary_ratio_is_built() -> None:
    """The guard leaves ordinary points alone (whitened entries far below the bound)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = stress_fit(_spanning_data())
    terms = engine_terms(fit._design)
    crit = ResidualCriterion(terms, fit._design.X, fit._design.y, fit._engine.model)
    factor = crit.factor_at(np.asarray(fit._engine.phi, dtype=float))
    assert np.abs(factor.X).max() < WHITENED_MAX
