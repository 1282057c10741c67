"""The moment start's design part kept with a reused design (issue 15, :mod:`.engine.start`).

The compiled moment start is two calls: :func:`.jit_start.moment_design` (X's basis, each
term's LU factors, usable levels and sampling covariance, the between-level rank: X and the
terms alone) and :func:`.jit_start.moment_response` (θ of a response). A reused design's layout
(read-only terms, shared by its factors: :mod:`.engine.sibling`) keeps the design part with the
bits of X it was computed from. Every fit here is compared bit for bit (θ start, objective, θ,
β) with the same fit made with every cache off, where the design part is computed afresh; that
it is really kept is checked by counting the design calls. Nothing here is timed.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_design_cache import _same_fit

import mixedfit as mf
from mixedfit.engine import jit, jit_start
from mixedfit.engine import start as start_module
from mixedfit.engine.reterm import ReTerm, ThetaLayout
from mixedfit.engine.start import compiled_moment_start
from mixedfit.formula.memo import caches_disabled, clear_caches

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba is not installed")

MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ("Orthodont", "distance ~ age + (age | Subject)"),  # centred slopes: the inner layout's
    ("Orthodont", "distance ~ age * Sex + (age | Subject)"),  # two lost directions
    ("Pastes", "strength ~ 1 + (1 | batch) + (1 | batch:cask)"),
]


@pytest.fixture(autouse=True)
def empty_caches():
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def designs(monkeypatch) -> list[int]:
    """Counts the design parts computed (calls of :func:`.jit_start.moment_design`)."""
    count = [0]

    def counted(*args: Any) -> Any:
        count[0] += 1
        return jit_start.moment_design(*args)

    kernels = {"moment_design": counted, "moment_response": jit_start.moment_response}
    monkeypatch.setattr(start_module, "_kernels", kernels)
    monkeypatch.setattr(start_module, "_kernel_failed", False)
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    return count


def _fit(formula: str, df: pd.DataFrame, **kw: Any) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.lmer(formula, df, **kw)


def _compare(formula: str, df: pd.DataFrame, **kw: Any) -> mf.LinearMixedModel:
    """The fit with the caches equals, bit for bit, the fit without (from its θ start on)."""
    got = _fit(formula, df, **kw)
    with caches_disabled():
        want = _fit(formula, df, **kw)
    assert got.optimizer.theta_start.tobytes() == want.optimizer.theta_start.tobytes()
    _same_fit(got, want)
    assert got.optimizer.evaluations == want.optimizer.evaluations
    return got


def _responses(df: pd.DataFrame, response: str, count: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(15)
    values = df[response].to_numpy(dtype=float)
    noise = [rng.normal(scale=values.std(), size=len(df)) for _ in range(count)]
    return [df, *(df.assign(**{response: values + e}) for e in noise)]


def _layout(fit: mf.LinearMixedModel) -> ThetaLayout:
    """The layout whose moment start the fit computed (the centred columns' where centred)."""
    criterion = fit._engine._criterion
    return criterion.factor.layout if criterion is not None else fit._engine.factor.layout


@pytest.mark.parametrize(("name", "formula"), MODELS)
def test_the_kept_design_part_serves_new_responses_bit_for_bit(designs, name, formula):
    df = mf.load_dataset(name)
    frames = _responses(df, formula.split("~")[0].strip(), 4)
    _fit(formula, df)
    _fit(formula, df)  # the design reused: its layout keeps the design part
    before = designs[0]
    for i, frame in enumerate(frames * 2):  # REML and ML alternating, responses revisited
        _compare(formula, frame, reml=i % 3 != 1)
    # one design part per caches-off fit (a layout of writable terms keeps none); none cached
    assert designs[0] - before == len(frames) * 2


def test_the_kept_design_part_is_read_only_and_what_a_fresh_call_computes():
    df = mf.load_dataset("sleepstudy")
    fits = [_fit(MODELS[0][1], frame) for frame in _responses(df, "Reaction", 2)]
    layout = _layout(fits[-1])
    assert layout is _layout(fits[1])  # shared by the reused design's fits
    X, design = vars(layout)["_moment_design"]
    assert not X.flags.writeable and not any(a.flags.writeable for a in design)
    refs, Z, meta = vars(layout)["_moment_inputs"]
    fresh = jit_start.moment_design(np.array(X), refs.copy(), Z.copy(), meta.copy())
    assert len(fresh) == len(design) == 6
    for a, b in zip(design, fresh, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    assert fits[0].objective == pytest.approx(1743.6282719600, rel=1e-11)  # lme4 1.1-31


def test_a_changed_x_never_reuses_a_stale_design_part(designs):
    """The same Z (intercepts) with another X of the same shape, then back: each fit the
    caches-off fit; on one layout, X's bits decide (-0.0 is not 0.0)."""
    formula = "Reaction ~ Days + (1 | Subject)"
    df = mf.load_dataset("sleepstudy")
    days = df["Days"].to_numpy(dtype=float)
    shifted = df.assign(Days=days + 0.5)
    one = df.assign(Days=np.where(df.index == 7, 3.25, days))
    for frame in (df, shifted, df, one, shifted, df, one):
        _compare(formula, frame)
        _compare(formula, frame, reml=False)
    layout = _layout(_fit(formula, df))
    X, _ = vars(layout)["_moment_design"]
    y = np.asarray(_fit(formula, df)._engine.factor.y)
    for other in (X + 0.5, np.where(X == 0.0, -0.0, X), X[::-1].copy()):
        before = designs[0]
        got = compiled_moment_start(layout, other, y)
        assert designs[0] == before + 1  # computed anew, and kept with the new X
        assert vars(layout)["_moment_design"][0].tobytes() == np.array(other).tobytes()
        fresh = _fresh_layout(layout)
        want = compiled_moment_start(fresh, other, y)
        assert got is not None and want is not None and got.tobytes() == want.tobytes()
        assert "_moment_design" not in vars(fresh)  # writable terms: never kept


def _fresh_layout(layout: ThetaLayout) -> ThetaLayout:
    """The layout's terms on writable copies (a layout that keeps nothing)."""
    copies = (ReTerm(t.refs.copy(), t.Z.copy(), t.nlev, t.correlated) for t in layout.terms)
    return ThetaLayout(tuple(copies))


def test_a_changed_formula_never_reuses_a_stale_design_part(designs):
    """Formulas of the same shapes (X with another column of the same size, terms with other
    levels of the same count) in turn: each fit the caches-off fit."""
    df = mf.load_dataset("sleepstudy")
    df = df.assign(Shuffled=df["Subject"].to_numpy()[np.random.default_rng(2).permutation(180)])
    formulas = [
        "Reaction ~ Days + (1 | Subject)",
        "Reaction ~ log1p(Days) + (1 | Subject)",
        "Reaction ~ Days + (1 | Shuffled)",
        "Reaction ~ Days + (Days | Subject)",
        "Reaction ~ Days + (Days || Subject)",
    ]
    for formula in formulas * 2:
        _compare(formula, df)


def test_context_decides_where_the_design_part_is_kept(designs, monkeypatch):
    """With every cache off a fit computes its own (on its own layout); with MIXEDFIT_JIT=0
    the numpy start runs (no design part); then the kept one serves again, bit for bit."""
    formula, df = MODELS[0][1], mf.load_dataset("sleepstudy")
    _fit(formula, df)
    kept = _layout(_fit(formula, df))
    assert "_moment_design" in vars(kept)
    before = designs[0]
    with caches_disabled():
        fit = _fit(formula, df)
    assert _layout(fit) is not kept and designs[0] == before + 1
    before = designs[0]
    monkeypatch.setenv("MIXEDFIT_JIT", "0")
    numpy_fit = _fit(formula, df)
    assert designs[0] == before
    monkeypatch.setenv("MIXEDFIT_JIT", "1")
    again = _compare(formula, df)
    assert designs[0] == before + 1  # the caches-off fit's alone
    assert _layout(again) is kept
    assert numpy_fit.objective == pytest.approx(again.objective, rel=1e-12)
    clear_caches()  # designs above the row bound keep none (their Q is n × p)
    monkeypatch.setattr(start_module, "_KEEP_ROWS", 179)
    _fit(formula, df)
    big = _compare(formula, df)
    assert "_moment_design" not in vars(_layout(big))
    _same_fit(big, again)


@pytest.mark.filterwarnings("ignore::UserWarning")  # (catch_warnings is per process)
@pytest.mark.parametrize(("name", "formula"), [MODELS[4], MODELS[2]])
def test_fits_at_once_in_threads_equal_fits_one_by_one(name, formula):
    """Threads fitting one reused design at once (the design part computed by several, kept
    once; Orthodont: the centred columns' kernels leased too): every fit the caches-off fit."""
    frames = _responses(mf.load_dataset(name), formula.split("~")[0].strip(), 7)
    with caches_disabled():
        want = [_fit(formula, frame) for frame in frames]
    got: list[Any] = [None] * len(frames)

    def run(i: int) -> None:
        for _ in range(3):
            got[i] = _fit(formula, frames[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(frames))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for g, w in zip(got, want, strict=True):
        assert g.optimizer.theta_start.tobytes() == w.optimizer.theta_start.tobytes()
        _same_fit(g, w)
