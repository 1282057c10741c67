"""Table-driven tests of the formula stage (string → terms, no data)."""

from __future__ import annotations

import pytest

from mixedfit import FormulaError
from mixedfit.formula import RandomTerm, expression_names, parse_formula

# (formula, response, fixed part, [(expr, group)], offsets)
VALID = [
    ("y ~ 1 + x + (1 | g)", "1 + x", [("1", ("g",))], ()),
    ("y ~ x + (x | g)", "x", [("x", ("g",))], ()),
    ("y ~ x + (1 + x | g)", "x", [("1 + x", ("g",))], ()),
    ("y ~ x + (0 + x | g)", "x", [("0 + x", ("g",))], ()),
    ("y ~ x + (1 + x + z | g)", "x", [("1 + x + z", ("g",))], ()),
    ("y ~ x + (x || g)", "x", [("1", ("g",)), ("0 + x", ("g",))], ()),
    ("y ~ x + (1 + x + z || g)", "x", [("1", ("g",)), ("0 + x", ("g",)), ("0 + z", ("g",))], ()),
    ("y ~ x + (0 + x + z || g)", "x", [("0 + x", ("g",)), ("0 + z", ("g",))], ()),
    (
        "y ~ (x || g1/g2)",
        "1",
        [("1", ("g1",)), ("1", ("g1", "g2")), ("0 + x", ("g1",)), ("0 + x", ("g1", "g2"))],
        (),
    ),
    ("y ~ (1 | g1/g2)", "1", [("1", ("g1",)), ("1", ("g1", "g2"))], ()),
    (
        "y ~ (1 | g1/g2/g3)",
        "1",
        [("1", ("g1",)), ("1", ("g1", "g2")), ("1", ("g1", "g2", "g3"))],
        (),
    ),
    ("y ~ (1 | g1:g2)", "1", [("1", ("g1", "g2"))], ()),
    ("y ~ (1 | g1) + (1 | g2)", "1", [("1", ("g1",)), ("1", ("g2",))], ()),
    ("y ~ f + (0 + f | g)", "f", [("0 + f", ("g",))], ()),
    ("y ~ (1 | g) + (0 + x | g)", "1", [("1", ("g",)), ("0 + x", ("g",))], ()),
    ("y ~ (1|g)", "1", [("1", ("g",))], ()),
    ("y ~ 0 + x + (1 | g)", "0 + x", [("1", ("g",))], ()),
    ("y ~ x - 1 + (1 | g)", "x - 1", [("1", ("g",))], ()),
    ("np.log(y) ~ I(x**2) + C(f) + (1 | g)", "I(x**2) + C(f)", [("1", ("g",))], ()),
    ("y ~ x + offset(np.log(t)) + (1 | g)", "x", [("1", ("g",))], ("np.log(t)",)),
    ("y ~ x + ((1 | g))", "x", [("1", ("g",))], ()),
    ("y ~ a*b + (1 + a | g)", "a*b", [("1 + a", ("g",))], ()),
    ("y~x+(1|g)", "x", [("1", ("g",))], ()),
    ("y ~ x + (1 | `my group`)", "x", [("1", ("my group",))], ()),
]


@pytest.mark.parametrize(("text", "fixed", "terms", "offsets"), VALID, ids=[v[0] for v in VALID])
def test_valid(text, fixed, terms, offsets):
    f = parse_formula(text)
    assert f.fixed == fixed
    assert [(t.expr, t.group) for t in f.random] == terms
    assert f.offsets == offsets
    assert f.response == text.split("~")[0].strip()


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
    ("y ~ x", "no random-effects terms in 'y ~ x'"),
    ("y | z ~ x + (1 | g)", "'|' in the response 'y | z'"),
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


def test_error_messages_have_no_terminal_codes():
    with pytest.raises(FormulaError) as info:
        parse_formula('y ~ "a + (1 | g)')
    assert "\x1b" not in str(info.value) and "⧛" not in str(info.value)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("np.log(x)", {"x"}),
        ("C(f, contr.sum)", {"f"}),
        ("I(a**2 + b)", {"a", "b"}),
        ("center(z)", {"z"}),
        ("a:b", {"a", "b"}),
    ],
)
def test_expression_names(expr, names):
    assert expression_names(expr) == names
