"""The residual structure spec and its combination: ``a & b`` (Λ = D C D, nlme's rule).

A :class:`ResidualStructure` holds column names and options only; ``bind(frame)`` reads the
columns of the model frame (the rows the model uses) and returns the engine's arrays
(:class:`~.binding.BoundResidual`). ``a & b`` combines a correlation structure
(:mod:`.correlation`) with any number of variance functions (:mod:`.variance`) into a
:class:`Combined`. The defaults here let :class:`Combined` bind its parts without knowing their
classes: correlation structures override :meth:`~ResidualStructure.bind_with`, variance functions
:meth:`~ResidualStructure.variance_part`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ..engine.residual.structure import ResidualModel
from ..engine.residual.variance import ProductVariance, VariancePart
from ..exceptions import DataError, MixedFitError
from .binding import BoundResidual
from .redundancy import check_identified
from .reference import order_key

__all__ = ["Combined", "ResidualStructure"]


class ResidualStructure(ABC):
    """A residual covariance structure (spec)."""

    is_correlation: ClassVar[bool] = False
    """A correlation structure within subjects (at most one per combination)."""
    is_variance: ClassVar[bool] = False
    """A variance function (a standard-deviation multiplier per row)."""

    @abstractmethod
    def bind(self, frame: pd.DataFrame, groups: Sequence[np.ndarray] = ()) -> BoundResidual:
        """The structure's arrays on the rows of ``frame``.

        ``groups``: level codes per row of the random-effects grouping factors, outer to inner
        (:func:`.reference.outer_to_inner`); with the subject they order the rows in which the
        reference level is the first row's, as nlme (:mod:`.reference`).
        """

    def bind_with(
        self,
        frame: pd.DataFrame,
        variances: Sequence[ResidualStructure],
        groups: Sequence[np.ndarray] = (),
    ) -> BoundResidual:
        """Bind, multiplying the rows' sds by ``variances`` (correlation structures only)."""
        raise MixedFitError(
            f"{type(self).__name__} is not a correlation structure: variance functions "
            f"combine with a correlation structure (CorrelationStructure subclasses)"
        )

    def variance_part(self, frame: pd.DataFrame, subject: np.ndarray | None) -> VariancePart:
        """The engine part on the rows of ``frame`` (variance functions only)."""
        raise MixedFitError(
            f"{type(self).__name__} is not a variance function (VarianceFunction subclasses)"
        )

    def __and__(self, other: ResidualStructure) -> Combined:
        return _combine(self, other)


def _combine(a: ResidualStructure, b: ResidualStructure) -> Combined:
    parts = [
        *(a.parts if isinstance(a, Combined) else (a,)),
        *(b.parts if isinstance(b, Combined) else (b,)),
    ]
    corr = [p for p in parts if p.is_correlation]
    var = [p for p in parts if p.is_variance]
    if len(corr) > 1:
        raise DataError(
            "a residual structure combines at most one correlation structure (with "
            "any number of variance functions)"
        )
    return Combined(corr[0] if corr else None, tuple(var))


@dataclass(frozen=True)
class Combined(ResidualStructure):
    """A correlation structure (or none) & variance functions."""

    correlation: ResidualStructure | None
    """A correlation structure (``is_correlation``), or none."""
    variances: tuple[ResidualStructure, ...]
    """Variance functions (``is_variance``); their multipliers multiply."""

    @property
    def parts(self) -> tuple[ResidualStructure, ...]:
        return ((self.correlation,) if self.correlation is not None else ()) + self.variances

    def bind(self, frame: pd.DataFrame, groups: Sequence[np.ndarray] = ()) -> BoundResidual:
        check_identified(self.correlation, self.variances, frame)
        if self.correlation is not None:
            return self.correlation.bind_with(frame, self.variances, groups)
        key = order_key(groups)
        vp = [v.variance_part(frame, key) for v in self.variances]
        model = ResidualModel(
            len(frame), None, None, vp[0] if len(vp) == 1 else ProductVariance(vp)
        )
        return BoundResidual(model, None, None, [], [], None)
