"""mixedfit: linear mixed-effects models from lme4-style formulas.

Public API
----------
lmer
    Fit a model: ``mixedfit.lmer("y ~ x + (1 + x | g)", df)``.
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
MixedFitWarning, RankDeficiencyWarning, SingularFitWarning, ConvergenceWarning
    Warning classes, filterable with :mod:`warnings`.
"""

from __future__ import annotations

from .api import anova, lmer
from .exceptions import (
    ConvergenceWarning,
    DataError,
    FormulaError,
    MixedFitError,
    MixedFitWarning,
    RankDeficiencyWarning,
    SingularFitWarning,
)
from .fitted import LinearMixedModel, load_fit
from .io.datasets import list_datasets, load_dataset
from .version import __version__

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "FormulaError",
    "LinearMixedModel",
    "MixedFitError",
    "MixedFitWarning",
    "RankDeficiencyWarning",
    "SingularFitWarning",
    "__version__",
    "anova",
    "list_datasets",
    "lmer",
    "load_dataset",
    "load_fit",
]
