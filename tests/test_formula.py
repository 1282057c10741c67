"""Table-driven tests of the formula stage (string → terms, no data)."""

from __future__ import annotations

import pytest

import mixedfit as mf
from mixedfit import FormulaError
from mixedfit.formula import RandomTerm, expression_names, parse_formula
from mixedfit.formula.safety import check_safe_formula

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


# ------------------------------------------------------------------ safe mode
COLUMNS = {"y", "x", "z", "f", "g", "t", "my x"}

SAFE = [
    "np.log(y) ~ I(z**2) + x + (1 | g)",
    "y ~ x + (1 + x | g)",
    "y ~ C(f, contr.sum) + C(f, Treatment('a')) + C(f, levels=['a', 'b']) + (x || g)",
    "y ~ center(x) + scale(z, ddof=0) + poly(x, 2) + (0 + f | g)",
    "y ~ np.sqrt(np.abs(x)) + np.exp(-z / 2) + I((x - 1) % 2) + `my x` + (1 | g/f)",
    "y ~ x + offset(np.log1p(t)) - 1 + (1 + I(x / 10) | f:g)",
    "y ~ x * z + x:z + (x + z) ** 2 + x %in% z + {x + 1} + (1 | g)",
]


@pytest.mark.parametrize("text", SAFE)
def test_safe_formulas_pass(text):
    parsed = check_safe_formula(text, COLUMNS)
    assert parsed == parse_formula(text)


# (formula, piece of the message); the columns are COLUMNS
REFUSED = [
    ("y ~ __import__('os').getpid() + (1 | g)", "'__import__'"),
    ("y ~ np.__class__ + (1 | g)", "attribute access is not allowed"),
    ("y ~ I(np.__class__) + (1 | g)", "attribute access: 'np.__class__'"),
    # a dotted name is one name, as in R (issue 13): not a column, hence refused
    ("y ~ I(x.real) + (1 | g)", "'x.real' is not a column of the data"),
    ("y ~ np.log(x).__class__ + (1 | g)", "attribute access is not allowed"),
    ("y ~ I((lambda: 1)()) + (1 | g)", "lambda"),
    ("y ~ I(lambda: x) + (1 | g)", "lambda"),
    ("y ~ I([v for v in x]) + (1 | g)", "comprehensions"),
    ("y ~ np.log(sum(v for v in x)) + (1 | g)", "'sum'"),
    ("y ~ [x for x in y] + (1 | g)", "'['"),
    ("y ~ I(x[0]) + (1 | g)", "subscripts"),
    ("y ~ I(().__class__.__bases__) + (1 | g)", "attribute access"),
    ("y ~ ().__class__.__bases__ + (1 | g)", "'.__class__.__bases__'"),
    ("y ~ C(f, Treatment('__class__')) + (1 | g)", "names with '__'"),
    ("y ~ I('__import__') + (1 | g)", "names with '__'"),
    ("y ~ I('text') + (1 | g)", "strings outside C(...) contrasts"),
    ("y ~ 'x' + (1 | g)", "only numbers"),
    ("y ~ open('f') + (1 | g)", "'open'"),
    ("y ~ eval('1') + (1 | g)", "'eval'"),
    ("y ~ getattr(x, 'real') + (1 | g)", "'getattr'"),
    ("y ~ np.save('f', x) + (1 | g)", "'np.save'"),
    ("y ~ C(f, contr.mro) + (1 | g)", "contrasts other than"),
    ("y ~ I(10 ** 10 ** 10) + (1 | g)", "a power of two constants"),
    ("y ~ poly(x, 1000) + (1 | g)", "integer up to 20"),
    ("y ~ I(x, *z) + (1 | g)", "argument unpacking"),
    ("y ~ {x.__class__} + (1 | g)", "attribute access"),
    ("y ~ I(open) + (1 | g)", "'open' is not a column"),
    ("y ~ w + (1 | g)", "'w' is not a column"),
    ("y ~ x + (1 + I(x.real) | g)", "'x.real' is not a column"),  # random-effects left side
    ("y ~ x + (1 + open('f') | g)", "'open'"),
    ("y ~ x + offset(open('f')) + (1 | g)", "'open'"),  # offset
    ("y ~ x + offset(x.__class__) + (1 | g)", "attribute access"),
    ("np.log(y).__class__ ~ x + (1 | g)", "attribute access"),  # response
    ("y ~ x + (1 | h)", "'h' is not a column"),  # grouping factor
    ("y ~ x + " + "x + " * 3000 + "(1 | g)", "characters"),
]


@pytest.mark.parametrize(("text", "piece"), REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_unsafe_formulas_are_refused(text, piece):
    with pytest.raises(FormulaError) as info:
        check_safe_formula(text, COLUMNS)
    assert "safe mode" in str(info.value) and piece in str(info.value)


def test_safe_mode_checks_before_anything_is_evaluated(sleepstudy):
    calls: list[int] = []
    formula = "Reaction ~ I(calls.append(1) or Days) + (1 | Subject)"
    with pytest.raises(FormulaError, match="safe mode"):
        mf.lmer(formula, sleepstudy, context={"calls": calls}, safe=True)
    assert calls == []
    mf.lmer(formula, sleepstudy, context={"calls": calls})  # without safe mode it runs
    assert calls


@pytest.mark.parametrize(
    ("dataset", "formula"),
    [
        ("sleepstudy", "np.log(Reaction) ~ I(Days**2) + Days + (1 | Subject)"),
        ("sleepstudy", "Reaction ~ center(Days) + offset(np.log1p(Days)) + (Days || Subject)"),
        ("sleepstudy", "Reaction ~ poly(Days, 2) + (1 + Days | Subject)"),
        ("pastes", "strength ~ 1 + (1 | batch/cask)"),
        ("machines", "score ~ C(Machine, contr.sum) + (0 + Machine | Worker)"),
        ("machines", "score ~ C(Machine, Treatment('B')) + (1 | Worker) + (1 | Machine:Worker)"),
    ],
)
def test_reference_formulas_fit_in_safe_mode(dataset, formula):
    df = mf.load_dataset(dataset)
    safe, plain = mf.lmer(formula, df, safe=True), mf.lmer(formula, df)
    assert safe.objective == plain.objective


def test_split_top_level() -> None:
    from mixedfit.formula.pycode import split_top_level

    assert split_top_level("x:f[T.a:b]", ":") == ["x", "f[T.a:b]"]
    assert split_top_level("0 + f | g, hom = 'a,b'", ",") == ["0 + f | g", " hom = 'a,b'"]
    assert split_top_level('I("x:y"):z:(a:b)', ":") == ['I("x:y")', "z", "(a:b)"]
    assert split_top_level("`a:b`:c", ":") == ["`a:b`", "c"]
