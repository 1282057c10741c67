"""Caches of the formula and design stages, and the switch that turns them all off.

A small model is fitted in about a millisecond, and users fit the same formula thousands of
times (bootstrap, simulation, model search), so the parts of a fit that depend only on the
formula and the *kinds* of the data's columns are computed once and kept: the parsed formula,
the safe-mode check, and the design plan of :mod:`mixedfit.design.plan`; a design whose predictor
columns hold the very values of a stored snapshot is reused with the new response
(:mod:`mixedfit.design.reuse`, with its canonical row order), and the engine keeps what it
computes from terms whose Z and level codes hold the same bits (:mod:`mixedfit.engine.skeleton`:
the centring of slope columns and the terms' cross products; the small index arrays of
:mod:`mixedfit.engine.blocks` and :mod:`mixedfit.engine.reterm` are kept too). Every cache is
keyed on everything its result depends on (never on the identity of a mutable object
without checking it), bounded (least recently used entries go first) and thread-safe.

:func:`caches_disabled` turns them all off for a block (tests compare fits with and without
caches: they must be bit-identical); :func:`clear_caches` empties them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["LRU", "Bypass", "caches_disabled", "caches_enabled", "clear_caches"]

V = TypeVar("V")

_switch = threading.Lock()
_disabled = 0  # depth of caches_disabled() blocks (in any thread)
_registry: list[LRU[object]] = []
_clearers: list[Callable[[], None]] = []


def caches_enabled() -> bool:
    """False inside :func:`caches_disabled`."""
    return _disabled == 0


@contextmanager
def caches_disabled() -> Iterator[None]:
    """Within the block every formula and design cache that depends on data or context is
    bypassed (in all threads: a plain flag, read at no cost): nothing is read from or stored in
    them, so each result is computed afresh, as in a new process. The memoized pure functions of
    a formula's text alone (its parse, the names it reads) are not bypassed: their results
    cannot go stale (:func:`clear_caches` empties them).

    Examples
    --------
    >>> from mixedfit.formula.memo import caches_disabled, caches_enabled
    >>> with caches_disabled():
    ...     caches_enabled()
    False
    """
    global _disabled
    with _switch:
        _disabled += 1
    try:
        yield
    finally:
        with _switch:
            _disabled -= 1


def clear_caches() -> None:
    """Empty every formula and design cache."""
    for cache in list(_registry):
        cache.clear()
    for clear in list(_clearers):
        clear()


def register_clearer(clear: Callable[[], None]) -> None:
    """Have :func:`clear_caches` call ``clear`` too (e.g. an ``lru_cache``'s ``cache_clear``)."""
    _clearers.append(clear)


class LRU(Generic[V]):
    """A bounded mapping that forgets its least recently used entries, off inside
    :func:`caches_disabled`.

    Parameters
    ----------
    maxsize : int
        Entries kept at most.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        _registry.append(self)  # type: ignore[arg-type]

    def get(self, key: Hashable) -> V | None:
        """The value stored for ``key`` (now the most recent), or None."""
        if not caches_enabled():
            return None
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value`` for ``key``, forgetting the oldest entry beyond ``maxsize``."""
        if not caches_enabled():
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class Bypass:
    """A thread-safe depth counter: true while some :meth:`block` is open (in any thread). One
    cache's own off switch (``design.reuse.designs_built``, ``engine.skeleton.skeletons_built``),
    beside :func:`caches_disabled` which turns every cache off."""

    def __init__(self) -> None:
        self._depth = 0
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return self._depth > 0

    @contextmanager
    def block(self) -> Iterator[None]:
        """Within the block the counter is true."""
        with self._lock:
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
