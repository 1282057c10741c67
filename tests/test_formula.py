"""Table-driven tests of the formula stage (string → terms, no data)."""

from __future__ import annotations

import pytest

from mixedfit import FormulaError
from mixedfit.formula import RandomTerm, parse_formula

# (formula, fixed part, [(expr, group, correlated)], offsets)
VALID = [
    ("y ~ 1 + x + (1 | g)", "1 + x", [("1", ("g",), True)], ()),
    ("y ~ x + (x | g)", "x", [("x", ("g",), True)], ()),
    ("y ~ x + (1 + x | g)", "x", [("1 + x", ("g",), True)], ()),
    ("y ~ x + (0 + x | g)", "x", [("0 + x", ("g",), True)], ()),
    ("y ~ x + (1 + x + z | g)", "x", [("1 + x + z", ("g",), True)], ()),
    ("y ~ x + (x || g)", "x", [("x", ("g",), False)], ()),
    ("y ~ (1 | g1/g2)", "1", [("1", ("g1",), True), ("1", ("g1", "g2"), True)], ()),
    (
        "y ~ (1 | g1/g2/g3)",
        "1",
        [("1", ("g1",), True), ("1", ("g1", "g2"), True), ("1", ("g1", "g2", "g3"), True)],
        (),
    ),
    ("y ~ (1 | g1:g2)", "1", [("1", ("g1", "g2"), True)], ()),
    ("y ~ (1 | g1) + (1 | g2)", "1", [("1", ("g1",), True), ("1", ("g2",), True)], ()),
    ("y ~ f + (0 + f | g)", "f", [("0 + f", ("g",), True)], ()),
    ("y ~ (1 | g) + (0 + x | g)", "1", [("1", ("g",), True), ("0 + x", ("g",), True)], ()),
    ("y ~ (1|g)", "1", [("1", ("g",), True)], ()),
    ("y ~ 0 + x + (1 | g)", "0 + x", [("1", ("g",), True)], ()),
    ("y ~ x - 1 + (1 | g)", "x - 1", [("1", ("g",), True)], ()),
    ("np.log(y) ~ I(x**2) + C(f) + (1 | g)", "I(x**2) + C(f)", [("1", ("g",), True)], ()),
    ("y ~ x + offset(np.log(t)) + (1 | g)", "x", [("1", ("g",), True)], ("np.log(t)",)),
    ("y ~ x + ((1 | g))", "x", [("1", ("g",), True)], ()),
    ("y ~ a*b + (1 + a | g)", "a*b", [("1 + a", ("g",), True)], ()),
    ("y~x+(1|g)", "x", [("1", ("g",), True)], ()),
    ("y ~ x + (1 | `my group`)", "x", [("1", ("my group",), True)], ()),
    ("y ~ x", "x", [], ()),
]


@pytest.mark.parametrize(("text", "fixed", "terms", "offsets"), VALID, ids=[v[0] for v in VALID])
def test_valid(text, fixed, terms, offsets):
    f = parse_formula(text)
    assert f.fixed == fixed
    assert [(t.expr, t.group, t.correlated) for t in f.random] == terms
    assert f.offsets == offsets
    assert f.response in {"y", "np.log(y)"}


# (formula, piece the message must quote)
MALFORMED = [
    ("y ~ x | g", "'x | g'"),
    ("y ~ x + x | g", "'x | g'"),
    ("y ~ (1 | g):z", "'(1 | g):z'"),
    ("y ~ z:(1 | g)", "'z:(1 | g)'"),
    ("y ~ (1 | g)*x", "'(1 | g)*x'"),
    ("y ~ x + (1 | )", "'(1 | )'"),
    ("y ~ x + ( | g)", "'( | g)'"),
    ("y ~ (1 | g", "'y ~ (1 | g'"),
    ("y ~ 1 | g)", "')'"),
    ("y ~ ((1 | g)", "'y ~ ((1 | g)'"),
    ("y ~ (1 | g | h)", "'(1 | g | h)'"),
    ("y ~ x - (1 | g)", "'- (1 | g)'"),
    ("y ~ (1 | np.log(g))", "'np.log(g)'"),
    ("y ~ (1 | g + h)", "'g + h'"),
    ("~ x + (1 | g)", "'~ x + (1 | g)'"),
    ("y ~ x ~ z", "'y ~ x ~ z'"),
    ("y ~", "'y ~'"),
    ("y ~ x +", "'y ~ x +'"),
    ("y ~ x + + z", "'y ~ x + + z'"),
    ("y ~ x + offset()", "'offset()'"),
    ("", "non-empty"),
]


@pytest.mark.parametrize(("text", "quoted"), MALFORMED, ids=[m[0] or "empty" for m in MALFORMED])
def test_malformed(text, quoted):
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert quoted in str(info.value)


def test_group_name_and_variables():
    f = parse_formula("np.log(y) ~ x + center(z) + (1 + w | a/b) + offset(t)")
    assert [t.group_name for t in f.random] == ["a", "a:b"]
    assert {"y", "x", "z", "w", "a", "b", "t"} <= f.variables()


def test_random_term_is_hashable_value():
    t = RandomTerm("1", ("g",))
    assert t == RandomTerm("1", ("g",)) and hash(t) == hash(RandomTerm("1", ("g",)))
