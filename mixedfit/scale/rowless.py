"""Row-level properties of a model fitted from cross products (no rows held).

:class:`RowlessOutputs` goes first among a fitted model's bases (``StatisticsModel``,
``StreamedResidualModel``): ``fitted``, ``residuals`` and ``scaled_residuals`` raise the
model's own :meth:`~RowlessOutputs._rows_error`, which says what to do instead.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import MixedFitError

__all__ = ["RowlessOutputs"]


class RowlessOutputs:
    """``fitted``, ``residuals``, ``scaled_residuals``: not available without the rows."""

    def _rows_error(self, what: str) -> MixedFitError:
        """The error for ``what`` (e.g. "fitted values"), saying what to do instead."""
        raise NotImplementedError

    @property
    def fitted(self) -> np.ndarray:
        """Not available: needs the rows."""
        raise self._rows_error("fitted values")

    @property
    def residuals(self) -> np.ndarray:
        """Not available: needs the rows."""
        raise self._rows_error("residuals")

    @property
    def scaled_residuals(self) -> np.ndarray:
        """Not available: needs the rows."""
        raise self._rows_error("residuals")
