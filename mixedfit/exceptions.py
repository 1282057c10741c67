"""Exception and warning classes raised by mixedfit.

Every problem mixedfit detects is reported through one of these classes, so users can catch
errors or filter warnings precisely (``warnings.simplefilter("ignore", mf.SingularFitWarning)``).
"""

from __future__ import annotations

__all__ = [
    "BoundaryWarning",
    "ConvergenceWarning",
    "DataError",
    "FormulaError",
    "MixedFitError",
    "MixedFitWarning",
    "RankDeficiencyWarning",
    "SingularFitWarning",
    "UnboundedLikelihoodWarning",
    "UnusedLevelWarning",
]


class MixedFitError(ValueError):
    """Base class of the errors raised by mixedfit."""


class FormulaError(MixedFitError):
    """A model formula is malformed or refers to something that does not exist."""


class DataError(MixedFitError):
    """The data cannot support the requested model (missing rows, bad types, too few levels)."""


class MixedFitWarning(UserWarning):
    """Base class of the warnings issued by mixedfit."""


class RankDeficiencyWarning(MixedFitWarning):
    """The fixed-effects model matrix is rank deficient; aliased columns were dropped."""


class SingularFitWarning(MixedFitWarning):
    """The fit is on the boundary of the parameter space (a variance or correlation degenerate)."""


class ConvergenceWarning(MixedFitWarning):
    """The optimizer stopped without meeting its convergence criteria."""


class UnusedLevelWarning(MixedFitWarning):
    """A categorical time has a level with no rows in the fit (a gap for AR1, ARMA, Toeplitz)."""


class BoundaryWarning(ConvergenceWarning):
    """A residual structure's parameter ran to a bound of its range where the structure is not
    identified (a spatial range → ∞): the optimum is the structure's limit model."""


class UnboundedLikelihoodWarning(MixedFitWarning):
    """The likelihood has no maximum: it grows without bound towards a limit of the parameter
    space (CompoundSymmetry under ML with few largest subjects, ρ → −1/(m − 1)), and is higher
    there than at the reported estimates, which are a local maximum (the one nlme reports)."""
