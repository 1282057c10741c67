"""The table of likelihood-ratio tests (:func:`mixedfit.anova`): a DataFrame whose rows carry short
labels (``M1``, ``M2``, ... simplest first, or the names given) and that prints, as R's
``anova(m0, m1)``, which model each label stands for and whether REML fits were refitted by ML.

The numbers are the DataFrame's columns (``npar, aic, bic, loglik, deviance, chisq, df, p``);
``attrs["method"]`` ("REML" or "ML") and ``attrs["refitted"]`` say how the fits were compared, and
:attr:`LRTTable.formulas` maps each row label to its model (the formula, with the residual
structure of a residual fit).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pandas as pd

from ..exceptions import MixedFitError

__all__ = ["LRTTable", "check_names", "check_test_alone", "label_rows"]


class LRTTable(pd.DataFrame):
    """Likelihood-ratio tests between nested models, one row per model (a pandas DataFrame).

    ``print(table)`` and the notebook's HTML show a "Models:" list (label: formula) and how the
    fits were compared above the numbers; ``table.formulas`` holds that list.
    """

    _metadata: ClassVar[list[str]] = ["formulas"]
    formulas: dict[str, str]

    @property
    def _constructor(self) -> type[LRTTable]:
        return LRTTable

    def header(self) -> list[str]:
        """The lines printed above the numbers: the models, then how they were compared."""
        lines = ["Models:"] + [f"{label}: {formula}" for label, formula in self._shown().items()]
        return [*lines, comparison_note(self.attrs)]

    def _shown(self) -> dict[str, str]:
        formulas = getattr(self, "formulas", None) or {}
        return {k: v for k, v in formulas.items() if k in self.index}

    def to_text(self, **kwargs: Any) -> str:
        """The table as text: :meth:`header`, then ``DataFrame.to_string(**kwargs)``."""
        return "\n".join([*self.header(), pd.DataFrame(self).to_string(**kwargs)])

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b>: <code>{html.escape(v)}</code></li>"
            for k, v in self._shown().items()
        )
        note = html.escape(comparison_note(self.attrs))
        body = pd.DataFrame(self).to_html()
        return f'<div class="mixedfit-lrt"><p>Models:</p><ul>{items}</ul><p>{note}</p>{body}</div>'


def comparison_note(attrs: Mapping[Any, Any]) -> str:
    """How the fits were compared, from the table's ``attrs``."""
    if attrs.get("refitted"):
        return "REML fits were refitted by maximum likelihood (ML) for the comparison."
    if attrs.get("method") == "REML":
        return "Compared by the REML criterion (same fixed effects; not refitted by ML)."
    return "Compared by maximum likelihood (ML fits; nothing refitted)."


def check_names(names: Sequence[str] | None, n: int) -> list[str] | None:
    """``names`` as a list of ``n`` distinct strings (or None).

    Raises
    ------
    MixedFitError
        Not a sequence of ``n`` distinct strings.
    """
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(x, str) for x in names):
        raise MixedFitError(f"names must be a list of strings, one per model, not {names!r:.60}")
    out = list(names)
    if len(out) != n or len(set(out)) != n:
        raise MixedFitError(
            f"names must give {n} distinct names, one per model in the order given; got {out}"
        )
    return out


def label_rows(
    table: pd.DataFrame, order: Sequence[int], labels: Sequence[str], names: list[str] | None
) -> LRTTable:
    """``table`` (rows labelled by ``labels``, the models' formulas, in table order) relabelled:
    ``names[order[i]]`` for row i when names were given (``order``: each row's position among the
    arguments), else ``M1``, ``M2``, ... in table order."""
    short = [names[i] for i in order] if names else [f"M{i + 1}" for i in range(len(table))]
    out = LRTTable(table.copy())
    out.index = pd.Index(short, name="model")
    out.attrs = dict(table.attrs)
    out.formulas = dict(zip(short, labels, strict=True))
    return out


def check_test_alone(test: object) -> None:
    """``fit.anova(test=...)`` with no other fits: only ``test=True`` (the type III F tests);
    ``test=False`` is the information table of several fits."""
    if test is not True:
        raise MixedFitError(
            f"anova(test={test!r}) with no other fits: test=False gives the information table "
            "(npar, AIC, BIC, log L) of several fits, as nlme's anova(m1, m2, test = FALSE); "
            "pass the other fits, e.g. fit.anova(other, test=False), or leave test=True for "
            "the type III F tests of this fit"
        )
