"""Stateful transforms fitted over the whole source in pass 1: ``scale``, ``center``,
``poly`` (R's orthogonal basis) and ``ns``/``bs`` with given interior knots.

In memory, formulaic fits a stateful transform's state (a mean, a basis) to the rows the model
uses. A streamed fit cannot see all rows at once, so pass 1 collects, chunk by chunk, the
sufficient statistics of each call's argument (:class:`Moments`: the count, mean and central
power sums, merged exactly as chunks or Dask partitions are added; the range for splines), and
the state is computed from them (:func:`TransformCalls.states`) and put into the design's
recipe before pass 2 (:func:`apply_states`), so every chunk is encoded with the state of the
whole source, as the in-memory fit encodes its rows.

``poly(x, d)``'s state (formulaic's monic three-term recurrence: ``alpha`` and ``norms2``) comes
from the central moments of orders up to 2d by the Stieltjes procedure on the standardized
moments; ``ns``/``bs`` with ``df=`` place interior knots at quantiles of x, which need all values
(not bounded memory): those are refused, asking for ``knots =``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from math import comb
from typing import Any

import numpy as np
import pandas as pd
from formulaic import Formula
from formulaic.transforms import TRANSFORMS
from formulaic.utils.code import format_expr

from ..design.frame import for_formulaic
from ..design.rtransforms import with_r_context
from ..exceptions import FormulaError
from ..formula import ModelFormula

__all__ = ["Moments", "TransformCalls", "apply_states", "spec_states"]

FITTED = ("scale", "center", "poly", "ns", "bs")  # stateful transforms a stream can fit


@dataclass
class Moments:
    """Count, mean and central power sums Σ(x − mean)^p (p = 2..order) of the values seen, plus
    their range and (up to ``keep``) distinct values."""

    order: int
    keep: int = 0
    n: int = 0
    mean: float = 0.0
    sums: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low: float = np.inf
    high: float = -np.inf
    distinct: set[float] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.order = max(self.order, 1)
        if len(self.sums) != self.order + 1:
            self.sums = np.zeros(self.order + 1)

    def add(self, values: np.ndarray) -> None:
        """Add values (NaN ignored)."""
        x = np.asarray(values, dtype=float).ravel()
        x = x[~np.isnan(x)]
        if not len(x):
            return
        mean = float(x.mean())
        d = x - mean
        sums = np.array([len(x), 0.0] + [float(np.sum(d**p)) for p in range(2, self.order + 1)])
        other = Moments(self.order, self.keep, len(x), mean, sums)
        other.low, other.high = float(x.min()), float(x.max())
        if self.keep and len(self.distinct) < self.keep:
            other.distinct = set(np.unique(x)[: self.keep].tolist())
        self.merge(other)

    def merge(self, other: Moments) -> Moments:
        """These values followed by ``other``'s (exact shift of the central sums)."""
        if other.n == 0:
            return self
        if self.n == 0:
            self.n, self.mean, self.sums = other.n, other.mean, other.sums.copy()
        else:
            n = self.n + other.n
            mean = self.mean + (other.mean - self.mean) * (other.n / n)
            self.sums = _shifted(self.sums, self.n, self.mean - mean) + _shifted(
                other.sums, other.n, other.mean - mean
            )
            self.n, self.mean = n, mean
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        if self.keep:
            self.distinct = set(sorted(self.distinct | other.distinct)[: self.keep])
        return self


def _shifted(sums: np.ndarray, n: int, delta: float) -> np.ndarray:
    """Σ(x − m')^p from Σ(x − m)^p when m − m' = delta (sums[0] = n, sums[1] = 0)."""
    central = sums.copy()
    central[0], central[1] = n, 0.0
    out = np.zeros_like(central)
    for p in range(len(central)):
        out[p] = sum(comb(p, k) * central[k] * delta ** (p - k) for k in range(p + 1))
    out[1] = 0.0  # the parts' first sums cancel about the combined mean
    return out


@dataclass
class _Call:
    """One stateful call: its key (formulaic's), function and recorded arguments."""

    key: str
    func: str
    args: dict[str, Any] = field(default_factory=dict)
    moments: Moments | None = None


@dataclass
class TransformCalls:
    """The stateful calls of a formula and their statistics over the rows seen (pass 1).

    Parameters
    ----------
    calls : dict
        Key → :class:`_Call`, from :meth:`of`.
    """

    calls: dict[str, _Call] = field(default_factory=dict)
    names: frozenset[str] = frozenset()

    @classmethod
    def of(cls, formula: ModelFormula) -> TransformCalls:
        """The calls of ``scale``, ``center``, ``poly``, ``ns``, ``bs`` in the fixed part and the
        random terms; FormulaError for one in the response or an offset, or one nested in
        another."""
        for what, text in [("the response", formula.response)] + [
            ("an offset", o) for o in formula.offsets
        ]:
            if any(_stateful(_name(node)) for node in ast.walk(ast.parse(text, mode="eval"))):
                raise FormulaError(
                    f"{what} {text!r} calls a transform fitted to the data, which a streamed "
                    "fit does not support there: compute the column in the source"
                )
        calls: dict[str, _Call] = {}
        for part in (formula.fixed, *(t.expr for t in formula.random)):
            for term in Formula(part):
                for factor in term.factors:
                    if factor.eval_method.value != "python":
                        continue
                    _collect(ast.parse(factor.expr, mode="eval"), calls)
        return cls(calls, frozenset(formula.variables()))

    def add(self, complete: pd.DataFrame) -> None:
        """Record the arguments of every call on a chunk's complete rows."""
        if not self.calls or not len(complete):
            return
        frame = for_formulaic(complete, self.names, frozenset())
        base: dict[str, Any] = {
            **with_r_context({"np": np}),
            **{str(c): frame[c] for c in frame.columns},
        }
        for call in self.calls.values():
            env = {**base, call.func: _recorder(call)}
            code = compile(ast.parse(call.key, mode="eval"), "<formula>", "eval")
            try:
                eval(code, {}, env)  # the formula is evaluated in memory as well
            except FormulaError:
                raise
            except Exception as err:
                raise FormulaError(f"cannot evaluate {call.key!r} on a chunk: {err}") from None

    def merge(self, other: TransformCalls) -> TransformCalls:
        """These statistics followed by ``other``'s."""
        for key, call in other.calls.items():
            mine = self.calls[key]
            if call.moments is None:
                continue
            if mine.moments is None:
                mine.moments, mine.args = call.moments, call.args
            else:
                mine.moments.merge(call.moments)
        return self

    def states(self) -> dict[str, dict[str, Any]]:
        """formulaic's state of every call, from the statistics over all rows."""
        return {key: _state(call) for key, call in self.calls.items()}


def _stateful(name: str) -> bool:
    """True if ``name`` is a transform that fits a state to the data (formulaic's or R's)."""
    if not name:
        return False
    func = with_r_context({}).get(name, TRANSFORMS.get(name))
    return name in FITTED or bool(getattr(func, "__is_stateful_transform__", False))


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id
    return ""


def _collect(tree: ast.AST, calls: dict[str, _Call]) -> None:
    for node in ast.walk(tree):
        if _name(node) in FITTED:
            assert isinstance(node, ast.Call)
            inner = [n for n in ast.walk(node) if n is not node and _name(n) in FITTED]
            if inner:
                raise FormulaError(
                    f"{format_expr(node)!r} nests transforms fitted to the data, which a "
                    "streamed fit does not support: compute the inner column in the source"
                )
            key = format_expr(node)
            calls.setdefault(key, _Call(key, _name(node)))


def _recorder(call: _Call) -> Any:
    def scale(data: Any, center: Any = True, scale: Any = True, ddof: float = 1) -> None:
        _record(call, data, 2, 0, center=center, scale=scale, ddof=ddof)

    def center(data: Any) -> None:
        _record(call, data, 2, 0, center=True, scale=False, ddof=1)

    def poly(x: Any, degree: int = 1, raw: bool = False) -> None:
        if not raw:
            _record(call, x, 2 * int(degree), int(degree) + 1, degree=int(degree))

    def spline(
        x: Any,
        df: int | None = None,
        knots: Any = None,
        degree: int = 3,
        intercept: bool = False,
        Boundary_knots: Any = None,
    ) -> None:
        interior = 0
        if df is not None:
            order = 4 if call.func == "ns" else int(degree) + 1
            interior = int(df) - (1 if call.func == "ns" else order - 1) - bool(intercept)
        if knots is None and interior > 0:
            raise FormulaError(
                f"{call.key!r} places its interior knots at quantiles of the data, which a "
                "streamed fit cannot compute over all rows in bounded memory: give the knots, "
                f"e.g. {call.func}(x, knots = c(...)) (and Boundary.knots = c(lo, hi) if wanted)"
            )
        _record(call, x, 0, 0, knots=knots, boundary=Boundary_knots)

    def ns(
        x: Any,
        df: int | None = None,
        knots: Any = None,
        intercept: bool = False,
        Boundary_knots: Any = None,
    ) -> None:
        spline(x, df, knots, 3, intercept, Boundary_knots)

    return {"scale": scale, "center": center, "poly": poly, "ns": ns, "bs": spline}[call.func]


def _record(call: _Call, data: Any, order: int, keep: int, **args: Any) -> None:
    values = np.asarray(data, dtype=float)
    if values.ndim != 1:
        raise FormulaError(f"{call.key!r}: a streamed fit transforms one column at a time")
    if call.moments is None:
        call.moments, call.args = Moments(order, keep), args
    call.moments.add(values)


def _state(call: _Call) -> dict[str, Any]:
    m, args = call.moments, call.args
    if m is None:  # raw poly, or no complete row: formulaic keeps nothing / fails as in memory
        return {}
    if call.func in ("scale", "center"):
        return _scale_state(m, args["center"], args["scale"], args["ddof"])
    if call.func == "poly":
        return _poly_state(m, args["degree"], call.key)
    boundary = args["boundary"]
    bounds = [m.low, m.high] if boundary is None else sorted(float(b) for b in np.ravel(boundary))
    knots = args["knots"]
    inner = [] if knots is None else sorted(float(k) for k in np.ravel(knots))
    return {"knots": inner, "boundary": bounds}


def _scale_state(m: Moments, center: Any, scale: Any, ddof: float) -> dict[str, Any]:
    state: dict[str, Any] = {"ddof": ddof}
    c: Any
    if isinstance(center, bool | np.bool_):
        c = np.float64(m.mean) if center else None
    else:
        c = np.asarray(center, dtype=float)
    state["center"] = c
    if isinstance(scale, bool | np.bool_):
        if scale:
            shift = m.mean - (0.0 if c is None else float(c))
            ss = m.sums[2] + m.n * shift**2
            state["scale"] = np.sqrt(np.float64(ss) / (m.n - ddof))
        else:
            state["scale"] = None
    else:
        state["scale"] = np.asarray(scale, dtype=float)
    return state


def _poly_state(m: Moments, degree: int, key: str) -> dict[str, Any]:
    if len(m.distinct) <= degree:
        raise FormulaError(
            f"{key}: 'degree' ({degree}) must be less than the number of unique points "
            f"({len(m.distinct)}), as R says; lower the degree or use raw = TRUE"
        )
    s = float(np.sqrt(m.sums[2] / m.n))
    mu = m.sums / (m.n * s ** np.arange(len(m.sums)))  # standardized moments, mu[1] = 0
    mu[0], mu[1] = 1.0, 0.0

    def inner(p: np.ndarray, q: np.ndarray) -> float:
        return float(sum(p[i] * q[j] * mu[i + j] for i in range(len(p)) for j in range(len(q))))

    alpha: dict[int, np.float64] = {}
    norms2: dict[int, np.float64] = {0: np.float64(m.n)}
    prev, cur = np.zeros(1), np.ones(1)
    prev_norm = 1.0
    for k in range(degree):
        norm = inner(cur, cur)
        tq = np.concatenate([[0.0], cur])
        a = inner(tq, cur) / norm
        alpha[k] = np.float64(m.mean + s * a)
        nxt = tq - a * np.concatenate([cur, [0.0]])
        if k:
            nxt[: len(prev)] -= (norm / prev_norm) * prev
        prev, cur, prev_norm = cur, nxt, norm
        norms2[k + 1] = np.float64(m.n * inner(cur, cur) * s ** (2 * (k + 1)))
    return {"alpha": alpha, "norms2": norms2}


def spec_states(spec: Any) -> dict[str, dict[str, Any]]:
    """The transform states of a formulaic model spec (its ``transform_state``)."""
    return dict(spec.transform_state)


def apply_states(specs: list[Any], states: dict[str, dict[str, Any]], formula: str) -> None:
    """Put ``states`` into the model specs (in place); FormulaError for a stateful transform
    that a streamed fit cannot fit (not one of ``scale``, ``center``, ``poly``, ``ns``, ``bs``)."""
    for spec in specs:
        unknown = sorted(set(spec.transform_state) - set(states))
        if unknown:
            raise FormulaError(
                f"{unknown} in {formula!r} fit their state to the data, which a streamed fit "
                "supports only for scale(), center(), poly(), and ns()/bs() with knots: compute "
                "the transformed column in the source instead"
            )
        for key in spec.transform_state:
            spec.transform_state[key] = states[key]
