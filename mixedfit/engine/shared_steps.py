"""One compiled update serving every factor of a reused design (issue 15).

A factor's update (:mod:`.steps`) is a list of closures bound to its own buffers. The factors
of a reused design (:mod:`.sibling`: copies of one prototype with their own response rows of A
and their own L) would each compile the same steps for new buffers, to run them once: the fit's
update at θ̂ (:func:`.solution.solve`) on the compiled path, whose optimizer never updates the
factor. :class:`SharedSteps`, kept on the prototype and shared by its siblings (and their
clones), holds one workspace factor with compiled steps instead: a factor that has not compiled
its own steps copies its response rows of A and its T into the workspace, runs the
workspace's steps and copies the workspace's L into its own buffers. The arithmetic is that of
the factor's own steps on the same values (the same steps, the same blocks of A between terms:
the very arrays), so L is the same bit for bit; a factor updated a second time compiles its own
steps (:attr:`.factor.BlockedFactor._steps`), so an optimizer's loop runs on its own buffers.

The workspace is used only when it is free (another thread holding it: the factor compiles its
own steps), only on the dense path (no CHOLMOD block), only for a factor whose blocks of A
between terms, Schur plans and threaded blocks are the workspace's (a factor whose A was
replaced, :meth:`.factor.BlockedFactor.set_cross_products`, leaves its shared steps) and only
for small factors (:data:`MAX_ENTRIES`: a large L is not kept twice).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np

from .blocks import BlockDiag, BlockSparse
from .steps import Step, compile_steps

# a .factor.BlockedFactor (not imported: the factor imports this module)
Factor = Any

__all__ = ["MAX_ENTRIES", "CompiledSteps", "SharedSteps"]

MAX_ENTRIES = 50_000  # entries of L above which no workspace is kept (~400 kB)
_STACK, _DATA, _ARRAY = 0, 1, 2  # how a block of L is copied out: a stacked column, .data, as is


class SharedSteps:
    """The workspace of one design's factors (see the module docstring); built by the first
    factor that uses it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.workspace: Factor | None = None
        self.refused = False  # too large (or not on the dense path): never built
        # what a factor must share with the workspace (blocks of A between terms, the very
        # arrays; Schur plans; threaded blocks; stacked columns; [X y]'s order), and the
        # workspace's arrays to copy in and out (set by _build)
        self._between: list[tuple[tuple[int, int], object]] = []
        self._same: tuple[Any, ...] = ()
        self._rows: list[tuple[tuple[int, int], np.ndarray]] = []
        self._out: list[tuple[Any, np.ndarray, int]] = []

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled and (deep-)copied empty: the lock and the workspace stay in this process."""
        return SharedSteps, ()

    def update(self, factor: Factor) -> bool:
        """Bring ``factor``'s L to the θ of its T (filled) through the workspace, once: True
        if done (the factor leaves the shared steps: a later update compiles its own), False
        (nothing done) where the factor runs its own steps. Errors of the factorization (an
        indefinite block) propagate, the factor's L then untouched."""
        if factor.__dict__.get("_steps") is not None:
            return False  # its own steps compiled: an optimizer's loop on its buffers
        factor._shared = None
        if self.refused or factor.sparse_plan is not None:
            return False
        if not self.lock.acquire(blocking=False):
            return False  # in use by another thread
        try:
            work = self.workspace
            if work is None:
                work = self._build(factor)
                if work is None:
                    return False
            if not self._serves(factor):
                return False
            A = factor.A
            for key, mine in self._rows:  # the factor's response rows of A, its T
                np.copyto(mine, A[key])
            np.copyto(work._T_buffer, factor._T_buffer)
            for step in work._steps:
                step()
            L, stacks = factor.L, factor.stacks
            for key, done, kind in self._out:
                if kind == _STACK:
                    np.copyto(stacks[key][1], done)
                else:
                    np.copyto(L[key].data if kind == _DATA else L[key], done)
            return True
        finally:
            self.lock.release()

    def _serves(self, factor: Factor) -> bool:
        """True if the workspace's steps compute ``factor``'s update (see ``_between``)."""
        K, A = factor.K, factor.A
        same = (factor.scaled_plans, factor.threaded, factor.stacks.keys(), A[K, K].shape, K)
        if same[0] is not self._same[0] or same[1:] != self._same[1:]:
            return False
        return all(A.get(key) is block for key, block in self._between)

    def _build(self, factor: Factor) -> Factor | None:
        entries = sum(_size(block) for block in factor.L.values())
        if entries > MAX_ENTRIES:
            self.refused = True
            return None
        work = copy.copy(factor)  # (a lazy sibling's copy: allocated below, whole)
        work.A = dict(factor.A)
        K = factor.K
        for j in range(K + 1):  # its own response rows: the steps read these
            work.A[K, j] = np.array(factor.A[K, j])
        work._X = work._y = None
        work.fixed_map, work._shared = None, None
        work._allocate()
        work._steps = compile_steps(work)
        self._between = [(key, block) for key, block in work.A.items() if key[0] < K]
        self._same = (work.scaled_plans, work.threaded, work.stacks.keys(), work.A[K, K].shape, K)
        self._rows = [((K, j), work.A[K, j]) for j in range(K + 1)]
        out: list[tuple[Any, np.ndarray, int]] = []
        for j, (_first, stack) in work.stacks.items():  # a stacked column: one copy
            out.append((j, stack, _STACK))
        for (i, j), block in work.L.items():
            if j in work.stacks and i >= work.stacks[j][0]:
                continue
            if isinstance(block, BlockDiag | BlockSparse):
                out.append(((i, j), block.data, _DATA))
            else:
                out.append(((i, j), block, _ARRAY))
        self._out = out
        self.workspace = work
        return work


class CompiledSteps:
    """The descriptor of :attr:`.factor.BlockedFactor._steps`: a factor's own steps
    (:func:`.steps.compile_steps` on its buffers), compiled the first time they are read (a
    factor of a reused design, updated once by :class:`SharedSteps`, never compiles them)."""

    def __get__(self, factor: Any, owner: Any = None) -> list[Step]:
        steps: list[Step] | None = factor.__dict__.get("_steps")
        if steps is None:
            steps = compile_steps(factor)  # (a lazy sibling allocates its buffers here)
            factor.__dict__["_steps"] = steps
        return steps

    def __set__(self, factor: Any, steps: list[Step] | None) -> None:
        factor.__dict__["_steps"] = steps


def _size(block: object) -> int:
    data = block.data if isinstance(block, BlockDiag | BlockSparse) else block
    return int(data.size) if isinstance(data, np.ndarray) else MAX_ENTRIES + 1
