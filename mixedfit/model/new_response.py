"""A fit refitted to a new response as :func:`mixedfit.lmer` fits it (``fit.refit(y=...)``,
issue 15): the same design with the new response, in the canonical row order
(:func:`..design.canonical.canonical_rows`), fitted from the moment start, so the refit is
bit for bit the fit ``lmer`` gives on a frame holding that response (without its warnings).

A design's canonical order is kept for the refits of one fit: the fit's arrays other than the
response are viewed read-only (:func:`shared_arrays`, once per fit), so that
:func:`..design.canonical.canonical_rows` reuses their order (sorted once, the response sorted
anew only within tied rows) as it does for a design reused between ``lmer`` calls, instead of
sorting every row by every column per refit. The views are of the fit's own arrays, which
nothing changes after the fit (the user's frame is not read again).
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..design import Design, TermDesign
from ..design import validation as v
from ..design.canonical import canonical_rows
from ..engine.lmm import EngineFit, fit_lmm
from .structured import engine_term

__all__ = ["response_fit", "shared_arrays"]

# fit -> its design with read-only views of the arrays (weak: gone with the fit)
_SHARED: weakref.WeakKeyDictionary[Any, Design] = weakref.WeakKeyDictionary()


def _read_only(a: np.ndarray) -> np.ndarray:
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def shared_arrays(design: Design) -> Design:
    """``design`` with read-only views of its per-row arrays but the response (the key of
    :func:`..design.canonical.canonical_rows`' kept orders); ``design`` itself if it has
    weights (whose canonical order is sorted per call) or is read-only already."""
    if design.weights is not None:
        return design
    terms = tuple(TermDesign(_read_only(t.Z), _read_only(t.refs)) for t in design.terms)
    X, offset, rows = (_read_only(a) for a in (design.X, design.offset, design.rows))
    return replace(design, X=X, terms=terms, offset=offset, rows=rows)


def response_fit(fit: Any, y: Any, reml: bool) -> tuple[Design, EngineFit]:
    """The design of ``fit`` holding the new response ``y`` (checked: one finite value per
    row, not constant) and the engine's fit to it, as :func:`mixedfit.lmer` fits it.

    Parameters
    ----------
    fit : MixedModelFit
    y : array-like, shape (nobs,)
    reml : bool

    Returns
    -------
    Design
        The fit's design with ``y`` (the fit's row order).
    EngineFit
        Fitted on that design's canonical rows from the moment start.
    """
    design: Design = fit._design
    new_y = v.refit_response(y, len(design.y), _labels(design))
    shared = _SHARED.get(fit)
    if shared is None:
        shared = _SHARED.setdefault(fit, shared_arrays(design))
    c = canonical_rows(replace(shared, y=new_y))
    terms = [engine_term(t.refs, t.Z, spec) for t, spec in zip(c.terms, c.spec.terms, strict=True)]
    engine = fit_lmm(terms, c.X, c.y - c.offset, weights=c.weights, reml=reml)
    return replace(design, y=new_y), engine


def _labels(design: Design) -> pd.Index | None:
    """The fit's rows' labels (the model frame's index), None without a kept frame."""
    return None if design.frame is None else design.frame.index
