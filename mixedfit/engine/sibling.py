"""A new factor of a reused design from a kept prototype (issue 15, :mod:`.skeleton`).

Fits of the same terms and X to new responses build factors that differ only in the response's
rows of A (``A[K, j]``, ``A[K, K]``) and in the centring map of the fixed effects. Everything
:class:`.factor.BlockedFactor` derives from the terms alone — the θ layout, the block order,
which blocks fill in, the sparse and Schur plans, the dense copies of the between-term blocks —
is the same every time. :func:`sibling` copies those from a prototype (a factor of the same
terms and X that is never updated, kept by the skeleton) and allocates only L, its T buffers and
the update's steps (which bind L's buffers) for the new A, when first read
(:class:`LazySibling`): the factor :meth:`.BlockedFactor.from_cross_products` builds from the
same A, attribute for attribute.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np

from . import factor as factor_module
from .blocks import Block
from .factor import BlockedFactor
from .reparam import FixedCentring
from .reterm import ReTerm
from .sparse import current_policy

__all__ = ["MAX_PROTOTYPES", "LazySibling", "prototype", "settings", "sibling", "takes_siblings"]

MAX_PROTOTYPES = 4  # per design: one per setting in use (settings())

# what BlockedFactor._allocate sets: a prototype holds none of it (a sibling allocates its own)
_ALLOCATED = (
    "L", "stacks", "threaded", "diag_index", "T", "_T_buffer", "_T_fill", "_steps",
    "_diagonals", "_diagonal_X", "_log_work", "_log_work_X",
)  # fmt: skip
_ALLOCATING = threading.Lock()  # a lazy sibling's allocation (LazySibling)


def settings() -> tuple[object, ...]:
    """What a factor's plans depend on besides its terms and A: the second block's policy
    (:func:`.sparse.current_policy`) and the pair budget of the Schur plans (patched by tests).
    A prototype serves only fits under the settings it was built with."""
    return current_policy(), factor_module.PAIR_BUDGET


def prototype(
    terms: list[ReTerm],
    A: dict[tuple[int, int], Block],
    nested: dict[tuple[int, int], bool],
    n: int,
) -> BlockedFactor:
    """The prototype of the factors of ``terms`` (unweighted) and cross products ``A`` (whose
    response rows it copies: it shares no array a fit may hold), without L."""
    K = len(terms)
    own = dict(A)
    for j in range(K + 1):
        own[K, j] = np.array(A[K, j])
    factor = BlockedFactor.from_cross_products(terms, own, nested, n, 0.0, None)
    for name in _ALLOCATED:
        factor.__dict__.pop(name, None)
    return factor


def takes_siblings(prototype: BlockedFactor) -> bool:
    """True if factors can be made from ``prototype`` (:func:`prototype`) by :func:`sibling`:
    on the dense path (no CHOLMOD plan, :mod:`.sparse`), without L, never updated."""
    return (
        prototype.sparse_plan is None
        and "L" not in prototype.__dict__
        and prototype._theta is None
        and not prototype._frozen
        and prototype.log_weights == 0.0
    )


def sibling(
    model: BlockedFactor,
    A: dict[tuple[int, int], Block],
    fixed_map: FixedCentring | None,
    lazy: bool = False,
) -> BlockedFactor:
    """A new factor with the prototype ``model``'s terms, layout and plans, and the rows ``A[K, j]``
    (j ≤ K, the fixed effects' and the response's) and ``fixed_map`` of a new fit; its L
    allocated for them (``lazy``: when first read, :class:`LazySibling`). ``A``'s blocks
    between terms are not read: they are the prototype's (the same cross products)."""
    assert takes_siblings(model)
    K = model.K
    new = copy.copy(model)  # shares the layout, the terms, the plans and A's term blocks
    new.A = dict(model.A)
    for j in range(K + 1):
        new.A[K, j] = A[K, j]
    new.fixed_map = fixed_map
    new._X = new._y = None
    if lazy:
        new.__class__ = LazySibling  # L, its T buffers and the steps allocated when first read
    else:
        new._allocate()
    return new


class LazySibling(BlockedFactor):
    """A :func:`sibling` whose L, T buffers and steps (``_ALLOCATED``) are allocated the first
    time one of them is read: a factor the compiled path never updates (the centred fit's inner
    factor, issue 15) allocates nothing. Allocated from its own A alone, whenever that happens,
    it is the factor :meth:`.BlockedFactor.from_cross_products` builds."""

    def __getattr__(self, name: str) -> Any:
        # called only for attributes not found: before the allocation, or a real miss
        own = self.__dict__
        if name in _ALLOCATED and "A" in own:
            with _ALLOCATING:  # (a fitted model may be shared between threads)
                if _ALLOCATED[-1] not in own:
                    # allocated on a shallow copy (the steps bind its buffers, not the factor),
                    # then each attribute set whole: another thread never sees half an L
                    shadow: BlockedFactor = copy.copy(self)
                    shadow.__class__ = BlockedFactor
                    shadow._allocate()
                    done = vars(shadow)
                    for key in _ALLOCATED:
                        own[key] = done[key]
            return own[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
