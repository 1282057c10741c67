"""Design stage (2): data + parsed formula → arrays (y, X, Z blocks, weights, offset).

The only stage that evaluates formulas on data. Modules, in the order a design is built:
:mod:`.validation` (data checks that name the column and say what to do), :mod:`.frame` (each
used column read from pandas once; the model frame), :mod:`.plainterms` (plain parts such as
``1 + x``, ``age * Sex`` or ``(1 + Days | Subject)`` built directly, formulaic's model spec
deferred until new data need it), :mod:`.groups` (grouping factors coded, new levels encoded),
:mod:`.sizes` (bounds on dense matrices, :data:`~.sizes.MAX_DENSE_BYTES`), :mod:`.slopes` (checks
of random slopes), :mod:`.plan` (what a design needs that depends only on the formula and the
kinds of the columns: plain parts, R names, sizes, group levels; made once and cached),
:mod:`.rtransforms` (R's functions for formulas: ``factor``, ``relevel``, ``log``, ``poly``,
...) with :mod:`.rsplines` (R's ``ns`` and ``bs``) and :mod:`.rcontrasts` (R's ``C(f, sum,
how.many)``; R's ``contr.*`` matrices in :mod:`.rcontr`), :mod:`.rnames` (R's names of the columns
and terms: ``(Intercept)``, ``SexFemale``), :mod:`.spec` (:class:`Design` and the recipe
:class:`DesignSpec` that encodes new data) and :mod:`.build` (:func:`build_design`, the stage's
entry point), :mod:`.canonical` (the canonical row order for the optimizer);
:mod:`.dataframes` converts polars, pyarrow and interchange-protocol frames to pandas (for the
API's ``data`` and ``newdata``).

Imports: :mod:`mixedfit.exceptions` and :mod:`mixedfit.formula` only (and formulaic, pandas).
"""

from __future__ import annotations

from .build import build_design, canonical_rows
from .frame import drop_unused_categories
from .groups import lme4_term_order
from .spec import Design, DesignSpec, TermDesign

__all__ = [
    "Design",
    "DesignSpec",
    "TermDesign",
    "build_design",
    "canonical_rows",
    "drop_unused_categories",
    "lme4_term_order",
]
