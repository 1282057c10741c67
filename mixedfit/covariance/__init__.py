"""Residual covariance structures (specs) and their binding to data.

The structures (:mod:`.structures`) hold column names and options only; ``bind(frame)``
(:mod:`.binding`) turns them into the engine's arrays (:mod:`mixedfit.engine.residual`).
"""

from .binding import BoundResidual
from .structures import (
    AR1,
    ARMA,
    CAR1,
    AnteDependence,
    Combined,
    CompoundSymmetry,
    CorrelationStructure,
    ResidualStructure,
    Spatial,
    Toeplitz,
    Unstructured,
    VarExp,
    VarianceFunction,
    VarIdent,
    VarPower,
)

__all__ = [
    "AR1",
    "ARMA",
    "CAR1",
    "AnteDependence",
    "BoundResidual",
    "Combined",
    "CompoundSymmetry",
    "CorrelationStructure",
    "ResidualStructure",
    "Spatial",
    "Toeplitz",
    "Unstructured",
    "VarExp",
    "VarIdent",
    "VarPower",
    "VarianceFunction",
]
