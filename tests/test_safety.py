"""Safe mode against an attack corpus, and the bound on formula expansion (issue 10, items 7, 10).

Each attack would create a file in a marker directory if formulaic ran it; safe mode must refuse
it with a FormulaError, through ``mf.lmer(..., safe=True)`` and the CLI's ``--safe`` (``fit`` and
``anova``), and the directory must stay empty.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.cli import main
from mixedfit.exceptions import FormulaError
from mixedfit.formula import parse_formula
from mixedfit.formula.limits import MAX_FACTORS, MAX_TERMS
from mixedfit.formula.safety import check_safe_formula

# MARK is replaced by the marker file's path
ATTACKS = [
    # backtick/quote pairing: formulaic's tokenizer pairs backticks inside strings, its sanitizer
    # does not (the example)
    'y ~ C(h, levels=["`", __import__("os").system("touch MARK"), "`"]) + (1 | g)',
    "y ~ C(h, levels=['`', __import__('pathlib').Path('MARK').touch(), '`']) + (1 | g)",
    "y ~ I(`a'` + open('MARK', 'w') + `'b`) + (1 | g)",
    'y ~ I(`a"` + open("MARK", "w") + `"b`) + (1 | g)',
    "y ~ I(`x\\`` + open('MARK', 'w')) + (1 | g)",
    "y ~ C(h, levels=['\\`', open('MARK', 'w'), '\\`']) + (1 | g)",
    "y ~ I(`-_import_-`('os').system('touch MARK')) + (1 | g)",
    # strings formulaic re-quotes when it evaluates a stateful transform
    "y ~ C(h, levels=['a\"), open(\"MARK\", \"w\"), (\"']) + (1 | g)",
    # dunders, builtins, attribute chains
    "y ~ I(__import__('pathlib').Path('MARK').touch()) + (1 | g)",
    "y ~ __import__('pathlib').Path('MARK').touch() + (1 | g)",
    "y ~ I(open('MARK', 'w')) + (1 | g)",
    "y ~ I(getattr(__builtins__, 'open')('MARK', 'w')) + (1 | g)",
    "y ~ I(x.__class__.__base__.__subclasses__()) + I(open('MARK', 'w')) + (1 | g)",
    "y ~ I(eval(\"open('MARK', 'w')\")) + (1 | g)",
    "y ~ I(exec(\"open('MARK', 'w')\")) + (1 | g)",
    # lambdas, comprehensions, f-strings, .format, walrus, conditionals, displays, unpacking
    "y ~ I((lambda: open('MARK', 'w'))()) + (1 | g)",
    "y ~ I([open('MARK', 'w') for _ in [1]]) + (1 | g)",
    "y ~ np.log(sum(open('MARK', 'w') and 1 for v in x)) + (1 | g)",
    "y ~ I({open('MARK', 'w'): 1}) + (1 | g)",
    "y ~ I(f\"{open('MARK', 'w')}\") + (1 | g)",
    "y ~ I('{}'.format(open('MARK', 'w'))) + (1 | g)",
    "y ~ I((v := open('MARK', 'w'))) + (1 | g)",
    "y ~ I(open('MARK', 'w') if 1 else x) + (1 | g)",
    "y ~ I(*[open('MARK', 'w')]) + (1 | g)",
    "y ~ C(h, **{'levels': open('MARK', 'w')}) + (1 | g)",
    # numpy and pandas I/O
    "y ~ I(np.save('MARK', x)) + (1 | g)",
    "y ~ np.log(np.savetxt('MARK', x)) + (1 | g)",
    "y ~ I(np.load('MARK')) + (1 | g)",
    "y ~ I(np.lib.npyio.DataSource().open('MARK', 'w')) + (1 | g)",
    "y ~ I(pd.read_csv('MARK')) + (1 | g)",
    "y ~ I(__import__('pandas').DataFrame().to_csv('MARK')) + (1 | g)",
    # arguments of the allowed functions
    "y ~ C(h, contr.treatment(open('MARK', 'w'))) + (1 | g)",
    "y ~ C(h, Treatment(open('MARK', 'w'))) + (1 | g)",
    "y ~ poly(x, degree=open('MARK', 'w')) + (1 | g)",
    "y ~ scale(x, center=open('MARK', 'w')) + (1 | g)",
    "y ~ np.log(x, out=open('MARK', 'w')) + (1 | g)",
    # unicode look-alikes (Python reads identifiers NFKC-normalized)
    "y ~ I(\uff3f\uff3fimport\uff3f\uff3f('pathlib').Path('MARK').touch()) + (1 | g)",
    "y ~ I(\uff4f\uff50\uff45\uff4e('MARK', 'w')) + (1 | g)",
    "y ~ I(\U0001d428pen('MARK', 'w')) + (1 | g)",
    # every place formulaic evaluates code: braces, response (parsed with its calls evaluated),
    # random-effects left sides, || terms, offsets, grouping factors, %in%
    "y ~ {open('MARK', 'w')} + (1 | g)",
    "open('MARK', 'w').close() ~ x + (1 | g)",
    "{open('MARK', 'w')} ~ x + (1 | g)",
    "y ~ x + (open('MARK', 'w') | g)",
    "y ~ x + (1 + I(open('MARK', 'w')) || g)",
    "y ~ x + offset(open('MARK', 'w')) + (1 | g)",
    "y ~ x + (1 | open('MARK', 'w'))",
    "y ~ x %in% open('MARK', 'w') + (1 | g)",
    "y ~ I(\nopen('MARK', 'w')) + (1 | g)",
]

# must be refused (or fail) at once, without hanging or eating memory
HUGE = [
    "y ~ I(10**10**10) + (1 | g)",
    "y ~ I(9**9**9) + (1 | g)",
    "y ~ I(x ** 9**9**9) + (1 | g)",
    "y ~ I(1 << 10**10) + (1 | g)",
    "y ~ C(h, levels=['a' * 10**10]) + (1 | g)",
    "y ~ I('a' * 10**10) + (1 | g)",
    "y ~ I(" + "9" * 5000 + ") + (1 | g)",
    "y ~ x + " + "9" * 5000 + " + (1 | g)",
    "y ~ x^" + "9" * 30 + " + (1 | g)",
    "y ~ I(" + "(" * 500 + "x" + ")" * 500 + ") + (1 | g)",
]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 60
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "h": np.where(np.arange(n) % 2, "a", "b"),
            "g": np.repeat([f"g{i}" for i in range(10)], 6),
        }
    )


@pytest.fixture
def marks(tmp_path):
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder


def _attack(template: str, marks) -> str:
    return template.replace("MARK", str(marks / "hit"))


def test_the_marker_works_without_safe_mode(data, marks):
    """The corpus is live: without safe mode the issue's attack creates the marker."""
    formula = _attack(ATTACKS[0], marks)
    with pytest.raises(mf.MixedFitError), pytest.warns(Warning):
        mf.lmer(formula, data)
    assert list(marks.iterdir())


@pytest.mark.parametrize("template", ATTACKS)
def test_attack_is_refused_by_lmer(template, data, marks):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(FormulaError, match="safe mode"):
            mf.lmer(_attack(template, marks), data, safe=True)
    assert not list(marks.iterdir())
    # refused quietly: no DeprecationWarning "<unknown>:1: invalid escape sequence" leaked
    # from compiling the attack's string literals
    assert not [w for w in seen if issubclass(w.category, DeprecationWarning | SyntaxWarning)]


@pytest.mark.parametrize("template", ATTACKS)
def test_attack_is_refused_by_the_cli(template, data, marks, capsys):
    path = marks.parent / "data.csv"
    data.to_csv(path, index=False)
    formula = _attack(template, marks)
    assert main(["fit", str(path), formula, "--safe"]) == 2
    assert "mixedfit: error: safe mode" in capsys.readouterr().err
    legit = "y ~ x + (1 | g)"
    assert main(["anova", str(path), legit, formula, "--safe"]) == 2
    assert "mixedfit: error: safe mode" in capsys.readouterr().err
    assert not list(marks.iterdir())


@pytest.mark.parametrize("formula", HUGE, ids=[h[:30] for h in HUGE])
def test_huge_literals_are_refused_at_once(formula, data):
    start = time.perf_counter()
    with pytest.raises(mf.MixedFitError):
        mf.lmer(formula, data, safe=True)
    assert time.perf_counter() - start < 5


def test_a_giant_level_string_is_harmless(data):
    """A long string is allowed in ``levels`` (the formula length is bounded): it is a level."""
    formula = "y ~ C(h, levels=['a', 'b', '" + "c" * 9000 + "']) + (1 | g)"
    start = time.perf_counter()
    with pytest.warns(mf.RankDeficiencyWarning, match="dropping 1 column"):
        fit = mf.lmer(formula, data, safe=True)  # the empty level's column
    assert time.perf_counter() - start < 5
    assert fit.fixef.size == 2  # the empty level's column is aliased and dropped


def test_cli_anova_has_safe_option(data, tmp_path, capsys):
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    code = main(["anova", str(path), "y ~ 1 + (1 | g)", "y ~ x + (1 | g)", "--safe"])
    assert code == 0, capsys.readouterr().err
    assert "chisq" in capsys.readouterr().out


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x + I(x**2) + C(h, levels=['b', 'a']) + (1 | g)",
        "y ~ x + `x` + I(`x` * 2) + (x || g)",
        "y ~ C(h, Treatment('b')) * x + offset(np.log1p(np.abs(z))) + (1 | g)",
        "y ~ (x + z + h)^3 + (1 | g)",
    ],
)
def test_legitimate_formulas_fit_the_same_in_safe_mode(formula, data):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        safe, plain = mf.lmer(formula, data, safe=True), mf.lmer(formula, data)
    assert safe.objective == plain.objective
    # `x` and I(`x` * 2) duplicate x (a column dropped), and g's slope has no variance
    expected = [mf.RankDeficiencyWarning, mf.SingularFitWarning] * 2 if "`x`" in formula else []
    assert [w.category for w in seen] == expected


# ------------------------------------------------------------------ expansion bound (item 10)
BIG = [
    "y ~ (x + z + t + o)^9 + (1 | g)",  # 15 s before
    "y ~ (x + z + t + o)^10 + (1 | g)",  # did not return
    "y ~ a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p + (1 | g)",
    "y ~ x + ((x + z + t + o)^10 | g)",
    "y ~ x + (1 | " + "/".join(f"g{i}" for i in range(60)) + ")",
    "y ~ " + ":".join(f"x{i}" for i in range(60)) + " + (1 | g)",
    "y ~ x^" + "9" * 12 + " + (1 | g)",
    "y ~ x + (" + " + ".join(f"x{i}" for i in range(130)) + " || "
    + "/".join(f"g{i}" for i in range(40))
    + ")",
]


@pytest.mark.parametrize("formula", BIG, ids=[b[:40] for b in BIG])
@pytest.mark.parametrize("safe", [False, True])
def test_expansion_is_bounded_before_expanding(formula, safe):
    start = time.perf_counter()
    with pytest.raises(FormulaError, match=r"MAX_TERMS|MAX_FACTORS"):
        if safe:
            check_safe_formula(formula)
        else:
            parse_formula(formula)
    assert time.perf_counter() - start < 5


def test_the_limits_are_generous_for_real_models():
    assert MAX_TERMS >= 1000 and MAX_FACTORS >= 10
    parse_formula("y ~ (a + b + c + d + e + f)^4 + a*b*c*d*e*f*h*i*j*k + (1 | g)")
    parse_formula("y ~ x + " + " + ".join(f"x{i}" for i in range(500)) + " + (1 | g)")
    parse_formula("y ~ x + (1 + x | g1/g2/g3/g4/g5) + (x || g6)")
