"""Formula stage (1): an lme4-style formula string → a :class:`ModelFormula` (no data).

Modules: :mod:`.parser` (string → terms, with formulaic's tokenizer and term algebra),
:mod:`.terms` (the parsed formula and its random-effects terms), :mod:`.structured` (structured
terms such as ``ar1(0 + f | g, hom=True)``), :mod:`.limits` (bounds on the
expansion: :data:`~.limits.MAX_TERMS`, :data:`~.limits.MAX_FACTORS`), :mod:`.safety` (safe mode:
:func:`~.safety.check_safe_formula`; what it allows: :mod:`.safenames`), :mod:`.pycode` and
:mod:`.pyexpr` (the formula's Python pieces read as formulaic reads them), :mod:`.rdialect` (R's
spellings, ``log(Solar.R)``, ``I(x^2)``, ``TRUE``, ``%in%``, rewritten as formulaic reads them;
:mod:`.rcontrasts` quotes ``C(f, sum)``'s abbreviation),
:mod:`.memo` (the bounded caches of the formula and design stages, and
:func:`~.memo.caches_disabled`, the switch that turns them all off).

Imports: only :mod:`mixedfit.exceptions` (and formulaic); every later stage may import this one.
"""

from __future__ import annotations

from .parser import parse_formula, plain_message
from .pycode import expression_names
from .terms import ModelFormula, RandomTerm

__all__ = ["ModelFormula", "RandomTerm", "expression_names", "parse_formula", "plain_message"]
