"""What safe mode allows (formula stage): the functions a safe formula may call, their
arguments, and the contrasts of ``C(...)``. Used by :mod:`.safety`, which checks formulas against
these tables (R's functions as :mod:`.rdialect` writes them: ``as.factor`` is ``as_factor``).
"""

from __future__ import annotations

import ast

from .rdialect import R_MATH

__all__ = [
    "ARGUMENTS",
    "COMPARISONS",
    "FLAGS",
    "MAX_POLY_DEGREE",
    "SAFE_CONTRASTS",
    "SAFE_FUNCTIONS",
    "VECTORS",
]

MAX_POLY_DEGREE = 20

#: Functions a safe formula may call, with the arguments each accepts (besides its data).
SAFE_FUNCTIONS: dict[str, str] = {
    **{
        f"np.{name}": "one numeric expression"
        for name in ("log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "abs")
    },
    "I": "one numeric expression (arithmetic only)",
    "offset": "one numeric expression",
    "center": "one numeric expression",
    "scale": "one numeric expression; center=, scale= (True/False), ddof= (a number)",
    "poly": f"one numeric expression; degree (an integer up to {MAX_POLY_DEGREE}), raw=",
    "C": "a column; contrasts (see SAFE_CONTRASTS); levels=[constants]",
    # R's spellings (mixedfit.formula.rdialect)
    **{name: "one numeric expression" for name in R_MATH if name != "log"},
    "log": "one numeric expression; optionally a base (a number)",
    **{
        name: "one expression (R's " + name.replace("_", ".") + ")"
        for name in ("as_factor", "as_numeric", "as_integer", "as_double")
    },
    "factor": "one expression; levels=c(constants)",
    "relevel": "one expression; ref (a level, as a string or number)",
    "ns": "one numeric expression; df (integer), knots=c(numbers), intercept=, Boundary.knots=",
    "bs": "one numeric expression; df, knots=c(numbers), degree=, intercept=, Boundary.knots=",
}

#: Keyword arguments (and how many positional ones) each allowed function takes.
ARGUMENTS: dict[str, tuple[int, tuple[str, ...]]] = {
    "scale": (1, ("center", "scale", "ddof")),
    "poly": (2, ("degree", "raw")),
    "log": (2, ("base",)),
    "relevel": (2, ("ref",)),
    "factor": (1, ("levels",)),
    "ns": (2, ("df", "knots", "intercept", "Boundary_knots")),
    "bs": (2, ("df", "knots", "degree", "intercept", "Boundary_knots")),
}
VECTORS = ("knots", "Boundary_knots")  # c(numbers)
FLAGS = {"T": True, "F": False}  # R's names for TRUE and FALSE
COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)

#: Contrasts allowed as the second argument of ``C(...)``, bare or called with constants.
SAFE_CONTRASTS: tuple[str, ...] = (
    "contr.treatment",
    "contr.sum",
    "contr.helmert",
    "contr.poly",
    "contr.diff",
    "contr.SAS",
    "Treatment",
    "Sum",
    "Helmert",
    "Poly",
    "Diff",
)
