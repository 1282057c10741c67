"""Property-based tests of the formula parser (hypothesis, derandomized for CI).

* Generated formulas (response, fixed terms, random terms with ``|``/``||`` and ``:``/``/``
  grouping, offsets), rendered with random spacing and parentheses, parse to the generated
  structure, and their :meth:`ModelFormula.to_string` reparses to an equal object.
* Token soups, mutated formulas and arbitrary text never raise anything but ``FormulaError``;
  when they parse, the round trip holds and the safe-mode check also raises only
  ``FormulaError``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from formulaic import Formula
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixedfit import FormulaError
from mixedfit.formula import ModelFormula, parse_formula
from mixedfit.formula.safety import check_safe_formula

FAST = settings(  # deterministic (same examples every run), no example database, no deadline
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

RESPONSES = ["y", "np.log(y)", "I(y / 2)", "`the y`", "{y + 1}"]
FIXED_TERMS = [
    "x", "z", "x:z", "x*z", "I(x**2)", "C(f)", "C(f, contr.sum)", "np.log(w)", "poly(x, 2)",
    "{x + 1}", "`a b`", "`a b`:x",
]  # fmt: skip
LEFT_SIDES = {  # left side → (intercept, variables) as lme4 reads it
    "1": (True, []),
    "0 + x": (False, ["x"]),
    "x": (True, ["x"]),
    "1 + x": (True, ["x"]),
    "x + z": (True, ["x", "z"]),
    "1 + x + z": (True, ["x", "z"]),
    "0 + x + z": (False, ["x", "z"]),
    "x - 1": (False, ["x"]),
    "1 + I(x**2)": (True, ["I(x**2)"]),
    "0 + {x + 1} + `a b`": (False, ["{x + 1}", "`a b`"]),
    "np.log(w) + C(f)": (True, ["np.log(w)", "C(f)"]),
}
GROUP_NAMES = ["g", "h", "Subject", "batch", "my group"]
OFFSETS = ["t", "np.log(t)", "0.5 * t"]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def quote(name: str) -> str:
    return name if name.isidentifier() else f"`{name}`"


@dataclass
class Summand:
    """One generated piece of the right side: (sign, text, kind, expected terms)."""

    sign: str
    text: str
    kind: str  # "fixed", "random", "offset"
    expected: list[tuple[str, tuple[str, ...]]]


@st.composite
def spaces(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["", " ", "  ", "\t"]))


@st.composite
def random_summand(draw: st.DrawFn) -> Summand:
    lhs = draw(st.sampled_from(sorted(LEFT_SIDES)))
    bar = draw(st.sampled_from(["|", "||"]))
    names = draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=1, max_size=3, unique=True))
    joiner = draw(st.sampled_from([":", "/"]))
    nested = [tuple(names[: i + 1]) for i in range(len(names))]
    groups = nested if joiner == "/" else [tuple(names)]
    if bar == "||":
        intercept, variables = LEFT_SIDES[lhs]
        pieces = (["1"] if intercept else []) + [f"0 + {v}" for v in variables]
    else:
        pieces = [lhs]
    s = [draw(spaces()) for _ in range(4)]
    group_text = f"{s[2]}{joiner}{s[3]}".join(map(quote, names))
    if draw(st.booleans()):
        group_text = f"({group_text})"
    text = f"({s[0]}{lhs}{s[1]}{bar}{s[2]}{group_text}{s[3]})"
    for _ in range(draw(st.integers(0, 2))):
        text = f"({draw(spaces())}{text}{draw(spaces())})"
    return Summand("+", text, "random", [(p, g) for p in pieces for g in groups])


@st.composite
def model(draw: st.DrawFn) -> tuple[str, str, list[Summand]]:
    """(formula text, response, summands in formula order)."""
    response = draw(st.sampled_from(RESPONSES))
    fixed = [
        Summand(draw(st.sampled_from(["+", "+", "-"])), t, "fixed", [])
        for t in draw(st.lists(st.sampled_from(FIXED_TERMS), max_size=4, unique=True))
    ]
    intercept = draw(st.sampled_from([None, ("+", "1"), ("+", "0"), ("-", "1")]))
    if intercept:
        fixed.append(Summand(intercept[0], intercept[1], "fixed", []))
    offsets = [
        Summand(draw(st.sampled_from(["+", "-"])), f"offset({o})", "offset", [])
        for o in draw(st.lists(st.sampled_from(OFFSETS), max_size=2))
    ]
    randoms = draw(st.lists(random_summand(), min_size=1, max_size=3))
    summands = draw(st.permutations(fixed + offsets + randoms))
    rhs = ""
    for i, piece in enumerate(summands):
        lead = "" if i == 0 and piece.sign == "+" and draw(st.booleans()) else piece.sign
        rhs += f"{draw(spaces())}{lead}{draw(spaces())}{piece.text}"
    return f"{response}{draw(spaces())}~{rhs}", response, list(summands)


def expected_fixed(summands: list[Summand]) -> str:
    pieces = [(s.sign, s.text) for s in summands if s.kind == "fixed"]
    if not pieces:
        return "1"
    out = pieces[0][1] if pieces[0][0] == "+" else f"-{pieces[0][1]}"
    return out + "".join(f"{sign}{text}" for sign, text in pieces[1:])


def expected_offsets(summands: list[Summand]) -> list[str]:
    out = []
    for s in summands:
        if s.kind == "offset":
            inner = s.text[len("offset(") : -1]
            expr = inner if s.sign == "+" else f"-({inner})"
            if squash(expr) not in map(squash, out):
                out.append(expr)  # identical terms are one term (R uses offset(o) once)
    return out


def assert_round_trip(parsed: ModelFormula) -> None:
    text = parsed.to_string()
    again = parse_formula(text)
    assert again == parsed, (text, again, parsed)
    assert again.to_string() == text


@FAST
@given(model())
def test_generated_formulas_parse_to_their_structure(case):
    text, response, summands = case
    parsed = parse_formula(text)
    assert squash(parsed.response) == squash(response)
    assert squash(parsed.fixed) == squash(expected_fixed(summands))
    got = [(squash(t.expr), t.group) for t in parsed.random]
    want = [(squash(e), g) for s in summands if s.kind == "random" for e, g in s.expected]
    assert got == want
    assert [squash(o) for o in parsed.offsets] == [squash(o) for o in expected_offsets(summands)]
    # the fixed part has the terms formulaic finds in the generated one
    assert list(Formula(parsed.fixed)) == list(Formula(expected_fixed(summands)))
    assert_round_trip(parsed)
    check_safe_formula(parsed)  # every generated formula uses only safe transforms


def parse_or_formula_error(text: str) -> None:
    """Parse ``text``: only FormulaError may escape; a success must round-trip."""
    try:
        parsed = parse_formula(text)
    except FormulaError:
        return
    assert_round_trip(parsed)
    with contextlib.suppress(FormulaError):  # refused or not, but nothing else
        check_safe_formula(parsed)


MUTATION_CHARS = [*"()|:/+-*~`'\"^%{}[],.0123456789 ax", "||", "**", "%in%", "offset("]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(model())[0]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        if action == "delete" and text:
            j = min(len(text), i + draw(st.integers(1, 3)))
            text = text[:i] + text[j:]
        elif action == "insert":
            text = text[:i] + draw(st.sampled_from(MUTATION_CHARS)) + text[i:]
        elif action == "duplicate":
            j = min(len(text), i + draw(st.integers(1, 6)))
            text = text[:j] + text[i:j] + text[j:]
        elif len(text) >= 2:
            i = min(i, len(text) - 2)
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text


SOUP = [
    "y", "x", "g", "h", "1", "0", "2.5", "~", "+", "-", "*", "/", ":", "|", "||", "(", ")",
    "((", "))", "^", "**", "%in%", "`", "`a b`", "'", '"s"', "np.log(", "I(", "C(", "offset(",
    "center(", ",", "[", "]", "{", "}", ".", "=", "!", "lambda", "#", "\\", "\n", " ", "é",
]  # fmt: skip


@FAST
@given(mutated())
def test_near_valid_formulas_raise_only_formula_error(text):
    parse_or_formula_error(text)


def framed(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``inner`` alone or inside ``y ~ ... + (1 | g)``, so that it reaches the later stages."""
    prefix = st.sampled_from(["", "y ~ ", "y ~ x + "])
    suffix = st.sampled_from(["", " + (1 | g)", "| g)"])
    return st.tuples(prefix, inner, suffix).map("".join)


@FAST
@given(framed(st.lists(st.sampled_from(SOUP), max_size=25).map("".join)))
def test_token_soups_raise_only_formula_error(text):
    parse_or_formula_error(text)


@FAST
@given(framed(st.text(max_size=30)))
def test_arbitrary_text_raises_only_formula_error(text):
    parse_or_formula_error(text)
