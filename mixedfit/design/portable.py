"""The names a formula's Python expressions see (``np``, a caller's ``context=``), in a mapping
that pickles and deep-copies: modules, which pickle cannot carry, travel by their import name
and are imported again on the other side (a fit pickled into another process)."""

from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["FormulaContext"]


class _ModuleName:
    """A module in a pickle: unpickled (or deep-copied) as the module imported by name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return importlib.import_module, (self.name,)


class FormulaContext(dict[str, Any]):
    """A formula's evaluation context: a plain dict, except that pickled (and deep-copied) its
    modules are carried by name (``np`` is always one; pickle refuses modules)."""

    def __reduce__(self) -> tuple[Any, ...]:
        items = {
            key: _ModuleName(value.__name__) if isinstance(value, types.ModuleType) else value
            for key, value in self.items()
        }
        return FormulaContext, (items,)

    def __copy__(self) -> FormulaContext:
        return FormulaContext(self)
