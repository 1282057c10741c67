"""The post-fit workflow of residual-structure fits (:class:`mixedfit.ResidualMixedModel`):
emmeans' marginal means and contrasts (with the fit's own Kenward–Roger / Satterthwaite df), and
the R² / ICC that are not defined for them. A mixin, so that ``residual_api`` stays small."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import pandas as pd

from .r2 import refuse_residual

__all__ = ["ResidualWorkflow"]


class ResidualWorkflow:
    """``emmeans``, ``contrasts``, ``icc`` and ``r2`` of a residual-structure fit."""

    def emmeans(
        self,
        specs: str | Sequence[str],
        at: Mapping[str, Any] | None = None,
        by: str | Sequence[str] | None = None,
        ddf: str = "satterthwaite",
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Marginal means as :meth:`LinearMixedModel.emmeans`, with this fit's Satterthwaite df
        and model-based SEs by default, as R's emmeans on an nlme ``gls``/``lme`` fit
        (``ddf="kenward-roger"``: mmrm's KR, as emmeans on an mmrm fit)."""
        from .emmeans import emmeans

        return emmeans(self, specs, at=at, by=by, ddf=ddf, level=level)

    def contrasts(
        self,
        specs: str | Sequence[str],
        method: Any = "pairwise",
        adjust: str | None = None,
        by: str | Sequence[str] | None = None,
        at: Mapping[str, Any] | None = None,
        ddf: str = "satterthwaite",
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Contrasts of estimated marginal means as :meth:`LinearMixedModel.contrasts`
        (Satterthwaite by default, as R's emmeans on nlme fits; see :meth:`emmeans`)."""
        from .emmeans import contrasts

        return contrasts(
            self, specs, method=method, adjust=adjust, by=by, at=at, ddf=ddf, level=level
        )

    def icc(self) -> NoReturn:
        """Not defined for residual-structure fits: raises NotImplementedError."""
        refuse_residual("icc()")

    def r2(self) -> NoReturn:
        """Not defined for residual-structure fits: raises NotImplementedError."""
        refuse_residual("r2()")
