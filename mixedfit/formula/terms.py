"""The parsed formula: :class:`ModelFormula` (response, fixed part, offsets) and its
random-effects terms :class:`RandomTerm`, as produced by :mod:`.parser`."""

from __future__ import annotations

from dataclasses import dataclass, field

from .pycode import expression_names, python_names

__all__ = ["ModelFormula", "RandomTerm", "quote_name"]


@dataclass(frozen=True)
class RandomTerm:
    """One random-effects term ``(expr | g1:g2:...)``.

    Attributes
    ----------
    expr : str
        Left side, a formulaic formula for the term's model-matrix columns (e.g. ``"1 + Days"``).
    group : tuple of str
        Column names whose interaction forms the grouping factor, in formula order.
    source : str
        The term as written in the formula (not compared: terms are equal when ``expr``,
        ``group``, ``structure`` and ``hom`` are).
    structure : str
        ``""`` for an ordinary term (lme4's unstructured ``(expr | g)``), else the covariance
        structure of ``structure(expr | g)``: ``"diag"``, ``"cs"``, ``"ar1"`` or ``"toep"``
        (see :mod:`mixedfit.formula.structured`).
    hom : bool or None
        One standard deviation for all columns (``hom=True``); None where it does not apply.
    """

    expr: str
    group: tuple[str, ...]
    source: str = field(default="", compare=False)
    structure: str = ""
    hom: bool | None = None

    @property
    def group_name(self) -> str:
        """Grouping factor name as written, e.g. ``"batch:cask"``."""
        return ":".join(self.group)

    def to_string(self) -> str:
        """The term as formula text, e.g. ``"(1 + x | g1:g2)"`` or
        ``"ar1(0 + f | g, hom=True)"`` (names quoted if needed)."""
        inner = f"{self.expr} | {':'.join(map(quote_name, self.group))}"
        if not self.structure:
            return f"({inner})"
        return f"{self.structure}({inner}, hom={self.hom})"


@dataclass(frozen=True)
class ModelFormula:
    """A parsed mixed-model formula.

    Attributes
    ----------
    response : str
        Left side of ``~`` (a formulaic expression such as ``"np.log(y)"``).
    fixed : str
        Right side of the fixed part for formulaic (``"1"`` if only random terms were given).
    random : tuple of RandomTerm
        Random-effects terms in formula order, ``/`` already expanded.
    offsets : tuple of str
        Expressions inside ``offset(...)``.
    text : str
        The formula as given (not compared: formulas are equal when their parts are).
    """

    response: str
    fixed: str
    random: tuple[RandomTerm, ...]
    offsets: tuple[str, ...]
    text: str = field(default="", compare=False)

    def __hash__(self) -> int:
        """The dataclass's hash of the compared fields, computed once: a formula keys the caches
        every fit reads (issue 15: hashing its terms cost ~1 µs a lookup). Not pickled (a
        string's hash differs between processes)."""
        found: int | None = self.__dict__.get("_hash")
        if found is None:
            found = hash((self.response, self.fixed, self.random, self.offsets))
            object.__setattr__(self, "_hash", found)
        return found

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def variables(self) -> set[str]:
        """Names referenced anywhere in the formula (columns or Python names)."""
        names = expression_names(self.response) | expression_names(self.fixed)
        for off in self.offsets:
            names |= python_names(off)  # offset(expr) is Python code (1e-3*Days)
        for term in self.random:
            names |= expression_names(term.expr) | set(term.group)
        return names

    def to_string(self) -> str:
        """The formula as text, ``/`` and ``||`` already expanded; parsing it gives back an
        equal :class:`ModelFormula`.

        Examples
        --------
        >>> from mixedfit.formula import parse_formula
        >>> parse_formula("y ~ x + (x || g1/g2)").to_string()
        'y ~ x + (1 | g1) + (1 | g1:g2) + (0 + x | g1) + (0 + x | g1:g2)'
        """
        parts = [self.fixed, *(t.to_string() for t in self.random)]
        parts += [f"offset({expr})" for expr in self.offsets]
        return f"{self.response} ~ {' + '.join(parts)}"


def quote_name(name: str) -> str:
    """``name``, backquoted unless it is a Python identifier."""
    return name if name.isidentifier() else f"`{name}`"
