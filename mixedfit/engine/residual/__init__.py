"""Residual covariance structures R = σ²Λ_R(φ) in the engine (arrays only).

:mod:`.maps` (parameter maps), :mod:`.correlation` (correlation structures), :mod:`.variance`
(variance functions), :mod:`.structure` (Λ_R per subject, whitening), :mod:`.criterion` (the
profiled criterion at (θ, φ)), :mod:`.fit` (the joint optimization and the estimates).
"""

from .criterion import ResidualCriterion, check_nested
from .fit import ResidualFit, fit_residual
from .structure import ResidualModel

__all__ = ["ResidualCriterion", "ResidualFit", "ResidualModel", "check_nested", "fit_residual"]
