"""mixedfit: linear mixed-effects models from lme4-style formulas.

Public API
----------
lmer
    Fit a model: ``mixedfit.lmer("y ~ x + (1 + x | g)", df)``; with ``residual=`` a residual
    covariance structure (the formula may then have no random-effects terms).
gls
    The same call with a residual structure: ``mixedfit.gls("y ~ x", df, residual=mf.AR1(...))``.
AR1, CAR1, ARMA, CompoundSymmetry, Toeplitz, AnteDependence, Unstructured, Spatial
    Residual correlation structures; VarIdent, VarPower, VarExp variance functions (``a & b``).
ResidualMixedModel
    The fitted model with a residual structure (returned by :func:`gls`).
anova
    Likelihood-ratio tests between nested fitted models.
LinearMixedModel
    The fitted model returned by :func:`lmer` (``summary()``, ``coef_table()``, ``anova()``,
    ``test()``, ``confint()``, ``predict()``, ``simulate()``, ``bootstrap()``).
load_fit
    Load a fit saved with ``fit.save(path)``.
load_dataset, list_datasets
    The bundled classic data sets (sleepstudy, Dyestuff, Penicillin, InstEval, ...).
FormulaError, DataError, MixedFitError
    Errors raised for malformed formulas and unusable data.
MixedFitWarning, RankDeficiencyWarning, SingularFitWarning, ConvergenceWarning, UnusedLevelWarning,
BoundaryWarning, UnboundedLikelihoodWarning
    Warning classes, filterable with :mod:`warnings`.
"""

from __future__ import annotations

from .api import anova, lmer
from .covariance import (
    AR1,
    ARMA,
    CAR1,
    AnteDependence,
    CompoundSymmetry,
    Spatial,
    Toeplitz,
    Unstructured,
    VarExp,
    VarIdent,
    VarPower,
)
from .exceptions import (
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    FormulaError,
    MixedFitError,
    MixedFitWarning,
    RankDeficiencyWarning,
    SingularFitWarning,
    UnboundedLikelihoodWarning,
    UnusedLevelWarning,
)
from .fitted import LinearMixedModel, load_fit
from .io.datasets import list_datasets, load_dataset
from .residual_api import ResidualMixedModel, gls
from .scale import CrossProducts
from .scale_api import StatisticsModel, crossproducts, load_crossproducts
from .version import __version__

__all__ = [
    "AR1",
    "ARMA",
    "CAR1",
    "AnteDependence",
    "BoundaryWarning",
    "CompoundSymmetry",
    "ConvergenceWarning",
    "CrossProducts",
    "DataError",
    "FormulaError",
    "LinearMixedModel",
    "MixedFitError",
    "MixedFitWarning",
    "RankDeficiencyWarning",
    "ResidualMixedModel",
    "SingularFitWarning",
    "Spatial",
    "StatisticsModel",
    "Toeplitz",
    "UnboundedLikelihoodWarning",
    "Unstructured",
    "UnusedLevelWarning",
    "VarExp",
    "VarIdent",
    "VarPower",
    "__version__",
    "anova",
    "crossproducts",
    "gls",
    "list_datasets",
    "lmer",
    "load_crossproducts",
    "load_dataset",
    "load_fit",
]
