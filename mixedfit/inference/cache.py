"""Per-fit memoization of expensive inference quantities (fits are immutable)."""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["cached_per_fit"]

R = TypeVar("R")


def cached_per_fit(fn: Callable[[Any], R]) -> Callable[[Any], R]:
    """Remember ``fn(fit)`` for as long as ``fit`` lives (weakly keyed)."""
    cache: weakref.WeakKeyDictionary[Any, R] = weakref.WeakKeyDictionary()

    @functools.wraps(fn)
    def wrapper(fit: Any) -> R:
        try:
            return cache[fit]
        except (KeyError, TypeError):
            pass
        out = fn(fit)
        with contextlib.suppress(TypeError):  # not weak-referenceable: no cache
            cache[fit] = out
        return out

    return wrapper
