"""Pickling of fitted models: the values of their cached properties (BLUPs as frames, variance
tables, fitted values) stay behind and are computed again when first read on the other side (the
same arithmetic on the same arrays: the same bits)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

__all__ = ["FitState"]


class FitState:
    """Mixin of the fitted models: ``__getstate__`` without the cached properties' values."""

    def __getstate__(self) -> dict[str, Any]:
        cached = {
            name
            for cls in type(self).__mro__
            for name, value in vars(cls).items()
            if isinstance(value, cached_property)
        }
        return {k: v for k, v in self.__dict__.items() if k not in cached}
