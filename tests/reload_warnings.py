"""What a reloaded fit warns against what the fit warned (``mf.load_fit`` gives the fit's warnings
again, session 18, lane lows28): the same classes and messages in the same order, except that an
AR(1) edge's BoundaryWarning of the fit also names the best fit found inside, from its search
("(ℓ = … there, above ℓ = … at φ = …, the best fit found inside …)"), which a reload cannot
know (it recomputes the message at the saved point: "(ℓ = … there)")."""

from __future__ import annotations

import re
import warnings

__all__ = ["said"]

_INSIDE = re.compile(r"(\(ℓ = \S+ there), above ℓ = .*?\); the fit is reported")


def said(seen: list[warnings.WarningMessage]) -> list[tuple[str, str]]:
    """(class name, message) of each warning, the search's clause of an edge's left out."""
    return [
        (w.category.__name__, _INSIDE.sub(r"\1); the fit is reported", str(w.message)))
        for w in seen
    ]
