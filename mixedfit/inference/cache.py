"""Per-fit memoization of expensive inference quantities (fits are immutable)."""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["cached_per_fit"]

R = TypeVar("R")


def cached_per_fit(fn: Callable[[Any], R]) -> Callable[[Any], R]:
    """Remember ``fn(fit)`` for as long as ``fit`` lives (weakly keyed).

    Thread-safe: concurrent first calls on one fit compute it once (the others wait for it);
    calls on different fits do not wait for each other.
    """
    cache: weakref.WeakKeyDictionary[Any, R] = weakref.WeakKeyDictionary()
    locks: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
    guard = threading.Lock()

    @functools.wraps(fn)
    def wrapper(fit: Any) -> R:
        try:
            return cache[fit]
        except KeyError:
            pass
        except TypeError:  # not weak-referenceable: no cache
            return fn(fit)
        with guard:
            lock = locks.setdefault(fit, threading.RLock())
        with lock:
            try:
                return cache[fit]
            except KeyError:
                out = fn(fit)
                cache[fit] = out
                return out

    return wrapper
