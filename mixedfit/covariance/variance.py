"""Variance functions (specs): a standard-deviation multiplier per row (nlme's varFunc).

σ² stays profiled, so each function fixes one scale: :class:`VarIdent`'s reference level (that
of the first row, rows sorted as nlme sorts them, :mod:`.reference`) has multiplier 1,
:class:`VarPower`'s is 1 at |v| = 1, :class:`VarExp`'s at v = 0. They bind alone, or combined
with a correlation structure (``corr & VarIdent(...)``, :mod:`.base`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.residual.structure import ResidualModel
from ..engine.residual.variance import ExpPart, IdentPart, PowerPart, VariancePart
from ..exceptions import DataError
from .base import ResidualStructure
from .binding import BoundResidual, Coded, code_column, numeric_column
from .reference import order_key

__all__ = ["VarExp", "VarIdent", "VarPower", "VarianceFunction"]


def _reference(stratum: np.ndarray, subject: np.ndarray | None) -> int:
    """nlme's reference stratum: that of the first row after a stable sort by ``subject`` (the
    subject codes, or :func:`.reference.order_key` of nlme's sort keys); without it, of the
    first row."""
    if subject is None or len(subject) == 0:
        return int(stratum[0]) if len(stratum) else 0
    return int(stratum[np.argsort(subject, kind="stable")[0]])


class VarianceFunction(ResidualStructure):
    """A variance function: a standard-deviation multiplier per row."""

    is_variance = True

    @abstractmethod
    def variance_part(self, frame: pd.DataFrame, subject: np.ndarray | None) -> VariancePart:
        """The engine part on the rows of ``frame``; ``subject`` orders the rows for the
        reference level (:func:`_reference`)."""

    def bind(self, frame: pd.DataFrame, groups: Sequence[np.ndarray] = ()) -> BoundResidual:
        model = ResidualModel(len(frame), None, None, self.variance_part(frame, order_key(groups)))
        return BoundResidual(model, None, None, [], [], None)


def _strata(frame: pd.DataFrame, by: str | None) -> Coded:
    if by is None:
        return Coded(np.zeros(len(frame), np.intp), ["all"])
    return code_column(frame, by, "by")


@dataclass(frozen=True)
class VarIdent(VarianceFunction):
    """A variance per level of ``by`` (nlme ``varIdent(~1|by)``); the reference level (that of
    the first row, rows sorted as nlme sorts them: by the random-effects groupings, outer to
    inner, then the correlation's subject, :mod:`.reference`) has multiplier 1."""

    by: str

    def variance_part(self, frame: pd.DataFrame, subject: np.ndarray | None) -> VariancePart:
        c = code_column(frame, self.by, "VarIdent")
        return IdentPart(c.codes, c.labels, _reference(c.codes, subject), qualifier=self.by)


@dataclass(frozen=True)
class VarPower(VarianceFunction):
    """sd ∝ |v|^δ (nlme ``varPower``); δ per level of ``by`` if given. v must be positive."""

    covariate: str
    by: str | None = None

    def variance_part(self, frame: pd.DataFrame, subject: np.ndarray | None) -> VariancePart:
        v = numeric_column(frame, self.covariate, "VarPower covariate")
        bad = np.flatnonzero(v <= 0)
        if len(bad):
            raise DataError(
                f"VarPower needs a positive covariate, but {self.covariate!r} is "
                f"{float(v[bad[0]]):g} on a row the model uses ({len(bad)} such rows); shift it, "
                f"or use VarExp"
            )
        s = _strata(frame, self.by)
        return PowerPart(v, s.codes, s.labels)


@dataclass(frozen=True)
class VarExp(VarianceFunction):
    """sd ∝ exp(δ v) (nlme ``varExp``); δ per level of ``by`` if given."""

    covariate: str
    by: str | None = None

    def variance_part(self, frame: pd.DataFrame, subject: np.ndarray | None) -> VariancePart:
        v = numeric_column(frame, self.covariate, "VarExp covariate")
        s = _strata(frame, self.by)
        return ExpPart(v, s.codes, s.labels)
