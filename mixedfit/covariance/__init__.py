"""Residual covariance structures (specs) and their binding to data.

The structures hold column names and options only: :mod:`.base` (the spec and ``a & b``),
:mod:`.correlation` (correlation structures), :mod:`.variance` (variance functions);
``bind(frame)`` (:mod:`.binding`) turns them into the engine's arrays
(:mod:`mixedfit.engine.residual`).
"""

from .base import Combined, ResidualStructure
from .binding import BoundResidual
from .correlation import (
    AR1,
    ARMA,
    CAR1,
    AnteDependence,
    CompoundSymmetry,
    CorrelationStructure,
    Spatial,
    Toeplitz,
    Unstructured,
)
from .variance import VarExp, VarianceFunction, VarIdent, VarPower

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
