"""Pickling and copying of :class:`.factor.BlockedFactor` (a fitted model's factor sent to
another process, or deep-copied).

A factor's update runs compiled steps: closures over its buffers (pickle cannot carry them), and
L's dense blocks are views of stacked buffers (pickled one by one, they would no longer share
memory). So the pickle carries what :meth:`.factor.BlockedFactor.clone` copies from (A, the data,
L's values, the T's, θ and the frozen flag) and none of what is derived from them: on the other
side the buffers, views and stacks are allocated from L's values as a clone's are (the same bits)
and the steps are compiled when first run. The shared steps of a design (:mod:`.shared_steps`)
stay in their process. A shallow ``copy.copy`` stays as it was: the same buffers (a sibling or a
clone starts from it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FactorState"]

# the attributes made again from L's values (._allocate, .sparse_steps.allocate_sparse)
_DERIVED = frozenset(
    {
        "_steps",
        "_shared",
        "stacks",
        "threaded",
        "diag_index",
        "T",
        "_T_buffer",
        "_T_fill",
        "_diagonals",
        "_diagonal_X",
        "_log_work",
        "_log_work_X",
        "_sparse_blocks",
    }
)


class FactorState:
    """Mixin of :class:`.factor.BlockedFactor`: ``__getstate__``/``__setstate__`` (pickle,
    deepcopy) and ``__copy__`` (the plain shallow copy)."""

    __dict__: dict[str, Any]

    def __copy__(self) -> Any:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in _DERIVED}
        if "L" in state:  # (a lazy sibling not yet allocated has neither L nor T)
            state["T"] = [np.array(t) for t in self.__dict__["T"]]  # the values only
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if "L" not in state:  # allocated when first read, as before (.sibling.LazySibling)
            self.__dict__.update(state)
            return
        T, L = state.pop("T"), state.pop("L")
        self.__dict__.update(state)
        self._allocate(source=L)  # as BlockedFactor.clone: buffers, views, stacks from L
        for mine, theirs in zip(self.__dict__["T"], T, strict=True):
            np.copyto(mine, theirs)

    def _allocate(self, source: Any = None) -> None:  # pragma: no cover - BlockedFactor's
        raise NotImplementedError
